package org.lesson8.train;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Training metrics per step, kept as a Tablesaw table (and written as CSV). */
public final class MetricsLog {
    private final List<Integer> steps = new ArrayList<>();
    private final Map<String, List<Double>> cols = new LinkedHashMap<>();

    public synchronized void log(int step, Map<String, Double> values) {
        steps.add(step);
        for (Map.Entry<String, Double> e : values.entrySet()) {
            cols.computeIfAbsent(e.getKey(), k -> {
                List<Double> l = new ArrayList<>();
                for (int i = 0; i < steps.size() - 1; i++) l.add(Double.NaN);
                return l;
            }).add(e.getValue());
        }
        for (List<Double> l : cols.values()) while (l.size() < steps.size()) l.add(Double.NaN);
    }

    public synchronized int size() {
        return steps.size();
    }

    public synchronized double[] column(String name) {
        List<Double> l = cols.get(name);
        if (l == null) throw new IllegalArgumentException("no metric '" + name + "'; have " + cols.keySet());
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    public synchronized double[] stepsAsDouble() {
        return steps.stream().mapToDouble(Integer::doubleValue).toArray();
    }

    /** Mean of the last n values of a metric (ignoring NaN). */
    public synchronized double tailMean(String name, int n) {
        double[] v = column(name);
        double s = 0;
        int k = 0;
        for (int i = Math.max(0, v.length - n); i < v.length; i++) if (!Double.isNaN(v[i])) { s += v[i]; k++; }
        return k == 0 ? Double.NaN : s / k;
    }

    public synchronized Table table() {
        Table t = Table.create("metrics").addColumns(IntColumn.create("step", steps.stream().mapToInt(Integer::intValue).toArray()));
        for (Map.Entry<String, List<Double>> e : cols.entrySet()) {
            t.addColumns(DoubleColumn.create(e.getKey(), e.getValue().stream().mapToDouble(Double::doubleValue).toArray()));
        }
        return t;
    }

    public void writeCsv(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        table().write().csv(file.toString());
    }

    /**
     * Appends this log's rows to a CSV written by {@link #writeCsv} for an earlier run with the same metrics, its
     * step numbers shifted by {@code stepOffset} (a continued training run keeps one curve).
     */
    public synchronized void appendCsv(Path file, int stepOffset) throws IOException {
        List<String> lines = Files.readAllLines(file);
        String header = "step," + String.join(",", cols.keySet());
        if (lines.isEmpty() || !lines.get(0).equals(header)) {
            throw new IllegalArgumentException(file + " has columns " + (lines.isEmpty() ? "none" : lines.get(0))
                    + ", this log has " + header + ": write it to a new file instead");
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < steps.size(); i++) {
            out.append(steps.get(i) + stepOffset);
            for (List<Double> c : cols.values()) out.append(',').append(c.get(i));
            out.append('\n');
        }
        Files.writeString(file, out, java.nio.file.StandardOpenOption.APPEND);
    }
}
