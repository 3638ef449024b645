package org.lesson8.viz;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Tablesaw tables as compact HTML, numbers rounded for reading. */
public final class Tables {
    private Tables() {}

    public static String toHtml(Table t) {
        StringBuilder sb = new StringBuilder("<table style=\"border-collapse:collapse;font-size:13px\">");
        if (t.name() != null && !t.name().isBlank()) sb.append("<caption style=\"text-align:left\"><b>").append(esc(t.name())).append("</b></caption>");
        sb.append("<tr>");
        for (Column<?> c : t.columns()) sb.append("<th style=\"border-bottom:1px solid #888;padding:2px 8px\">").append(esc(c.name())).append("</th>");
        sb.append("</tr>");
        for (int r = 0; r < t.rowCount(); r++) {
            sb.append("<tr>");
            for (Column<?> c : t.columns()) {
                Object v = c.get(r);
                String s = cell(v);
                sb.append("<td style=\"padding:2px 8px;text-align:right\">").append(esc(s)).append("</td>");
            }
            sb.append("</tr>");
        }
        return sb.append("</table>").toString();
    }

    /**
     * A JSON document (such as a checkpoint's {@code .json}) as a two-column table, nested keys joined with dots
     * ({@code config.dim}), short arrays written inline, long arrays summarised by their length — instead of
     * printing the raw JSON.
     */
    public static Table fromJson(String title, String json) {
        List<String> keys = new ArrayList<>();
        List<String> values = new ArrayList<>();
        flatten("", JsonParser.parseString(json), keys, values);
        return Table.create(title).addColumns(StringColumn.create("項目", keys), StringColumn.create("値", values));
    }

    private static void flatten(String prefix, JsonElement e, List<String> keys, List<String> values) {
        if (e == null || e.isJsonNull()) {
            keys.add(prefix);
            values.add("");
        } else if (e.isJsonObject()) {
            JsonObject o = e.getAsJsonObject();
            if (o.size() == 0) { keys.add(prefix); values.add("{}"); }
            for (Map.Entry<String, JsonElement> kv : o.entrySet()) {
                flatten(prefix.isEmpty() ? kv.getKey() : prefix + "." + kv.getKey(), kv.getValue(), keys, values);
            }
        } else if (e.isJsonArray()) {
            var a = e.getAsJsonArray();
            boolean flat = true;
            for (JsonElement x : a) flat &= x.isJsonPrimitive();
            keys.add(prefix);
            if (flat && a.size() <= 12) {
                List<String> parts = new ArrayList<>();
                for (JsonElement x : a) parts.add(primitive(x));
                values.add("[" + String.join(", ", parts) + "]");
            } else {
                values.add("(" + a.size() + " 個の要素)");
            }
        } else {
            keys.add(prefix);
            values.add(primitive(e));
        }
    }

    private static String primitive(JsonElement x) {
        if (x.getAsJsonPrimitive().isNumber()) {
            double d = x.getAsDouble();
            return fmt(d);
        }
        return x.getAsString();
    }

    /** One cell as text: missing values (null, NaN) are blank, never "null". */
    static String cell(Object v) {
        if (v == null) return "";
        if (v instanceof Double d) return fmt(d);
        if (v instanceof Float f) return fmt(f);
        String s = String.valueOf(v);
        return "null".equals(s) ? "" : s;
    }

    static String fmt(double d) {
        if (Double.isNaN(d)) return "";
        if (d != 0 && (Math.abs(d) >= 1e6 || Math.abs(d) < 1e-3)) return String.format("%.3g", d);
        if (d == Math.rint(d) && Math.abs(d) < 1e6) return String.format("%.0f", d);
        return String.format("%.4f", d);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
