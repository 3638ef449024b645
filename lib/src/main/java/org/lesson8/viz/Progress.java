package org.lesson8.viz;

import org.knowm.xchart.XYChart;
import org.lesson8.train.MetricsLog;

import java.util.function.Function;

/**
 * A live training display that is updated in place (one chart and one status line), instead of
 * printing thousands of lines. Refreshes at most every {@code everySeconds}.
 */
public final class Progress {
    private final MetricsLog log;
    private final Function<MetricsLog, XYChart> chart;
    private final double everySeconds;
    private final int totalSteps;
    private final long start = System.nanoTime();
    private long last;
    private String chartId;
    private String textId;

    public Progress(MetricsLog log, int totalSteps, double everySeconds, Function<MetricsLog, XYChart> chart) {
        this.log = log;
        this.totalSteps = totalSteps;
        this.everySeconds = everySeconds;
        this.chart = chart;
    }

    private String status(int step) {
        double secs = (System.nanoTime() - start) / 1e9;
        double loss = log.size() > 0 ? log.tailMean("loss", 20) : Double.NaN;
        return String.format("step %d/%d   loss %.4f   %.1f s", step, totalSteps, loss, secs);
    }

    public void update(int step) {
        long now = System.nanoTime();
        boolean lastStep = step >= totalSteps;
        if (!lastStep && (now - last) / 1e9 < everySeconds) return;
        last = now;
        if (!Display.inNotebook()) {
            if (lastStep) System.out.println(status(step));
            return;
        }
        Object text = Display.html("<code>" + status(step) + "</code>");
        if (textId == null) {
            textId = Display.handle(text);
            chartId = log.size() > 1 ? Display.handle(chart.apply(log)) : null;
        } else {
            Display.update(textId, text);
            if (log.size() > 1) {
                if (chartId == null) chartId = Display.handle(chart.apply(log));
                else Display.update(chartId, chart.apply(log));
            }
        }
    }

    /** Final refresh (call after the loop). */
    public void finish() {
        last = 0;
        update(totalSteps);
    }

    public double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }
}
