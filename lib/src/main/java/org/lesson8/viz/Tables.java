package org.lesson8.viz;

import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

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
                String s = v instanceof Double d ? fmt(d) : v instanceof Float f ? fmt(f) : String.valueOf(v);
                sb.append("<td style=\"padding:2px 8px;text-align:right\">").append(esc(s)).append("</td>");
            }
            sb.append("</tr>");
        }
        return sb.append("</table>").toString();
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
