package org.lesson8.viz;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.lesson8.train.MetricsLog;

import java.awt.Color;
import java.awt.Font;
import java.util.List;

/** XChart plots with a Japanese-capable font: curves, metric logs, scatter plots. */
public final class Charts {
    private Charts() {}

    public static final Color[] PALETTE = {
        new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44), new Color(214, 39, 40),
        new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194), new Color(127, 127, 127),
        new Color(188, 189, 34), new Color(23, 190, 207)};

    static void style(Styler s) {
        s.setChartTitleFont(Fonts.font(Font.BOLD, 14));
        s.setLegendFont(Fonts.font(Font.PLAIN, 11));
        s.setChartBackgroundColor(Color.WHITE);
        s.setSeriesColors(PALETTE);
        s.setAntiAlias(true);
    }

    public static XYChart line(String title, String xLabel, String yLabel) {
        XYChart c = new XYChartBuilder().width(560).height(320).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        style(c.getStyler());
        c.getStyler().setAxisTitleFont(Fonts.font(Font.PLAIN, 12));
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setMarkerSize(0);
        readableTicks(c);
        return c;
    }

    /**
     * Tick labels that do not run together: a smaller tick font and wider spacing between ticks, so that
     * longer step numbers fit. Known limit (XChart 3.8.8): for equally spaced x values XChart places labels on
     * data points at a spacing chosen from the first labels, so 4–5 digit labels late on a long axis can still touch.
     */
    public static XYChart readableTicks(XYChart c) {
        c.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));   // numbers only: with the Japanese font XChart misjudged label widths
        c.getStyler().setXAxisTickMarkSpacingHint(110);
        c.getStyler().setYAxisTickMarkSpacingHint(45);
        return c;
    }

    /** Adds a series (NaNs dropped); returns the chart. */
    public static XYChart add(XYChart c, String name, double[] x, double[] y) {
        int n = 0;
        for (int i = 0; i < y.length; i++) if (!Double.isNaN(y[i])) n++;
        if (n == 0) return c;
        double[] xs = new double[n];
        double[] ys = new double[n];
        for (int i = 0, k = 0; i < y.length; i++) if (!Double.isNaN(y[i])) { xs[k] = x[i]; ys[k++] = y[i]; }
        XYSeries s = c.addSeries(name, xs, ys);
        s.setMarker(SeriesMarkers.NONE);
        return c;
    }

    /** Exponential moving average (for noisy per-step losses). */
    public static double[] smooth(double[] y, double alpha) {
        double[] out = new double[y.length];
        double m = Double.NaN;
        for (int i = 0; i < y.length; i++) {
            if (!Double.isNaN(y[i])) m = Double.isNaN(m) ? y[i] : alpha * m + (1 - alpha) * y[i];
            out[i] = Double.isNaN(y[i]) ? Double.NaN : m;
        }
        return out;
    }

    /** A chart of metrics from a training log: each named metric a series (loss smoothed). */
    public static XYChart curves(String title, MetricsLog log, String... metrics) {
        XYChart c = line(title, "step", String.join(" / ", metrics));
        double[] x = log.stepsAsDouble();
        for (String m : metrics) {
            double[] y = log.column(m);
            add(c, m, x, m.contains("loss") && y.length > 20 ? smooth(y, 0.9) : y);
        }
        return c;
    }

    /** A scatter plot of 2-D points, one colour per group. */
    public static XYChart scatter(String title, double[][] points, int[] group, List<String> groupNames) {
        XYChart c = new XYChartBuilder().width(560).height(460).title(title).xAxisTitle("PC1").yAxisTitle("PC2").build();
        style(c.getStyler());
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setMarkerSize(5);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        readableTicks(c);
        for (int g = 0; g < groupNames.size(); g++) {
            int n = 0;
            for (int v : group) if (v == g) n++;
            if (n == 0) continue;
            double[] xs = new double[n];
            double[] ys = new double[n];
            for (int i = 0, k = 0; i < group.length; i++) if (group[i] == g) { xs[k] = points[i][0]; ys[k++] = points[i][1]; }
            c.addSeries(groupNames.get(g), xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
        return c;
    }
}
