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

    /** The last step reported by the training loop: the steps that actually ran. */
    private int seen;

    private String status(int step, boolean done) {
        double secs = (System.nanoTime() - start) / 1e9;
        double loss = log.size() > 0 ? log.tailMean("loss", 20) : Double.NaN;
        String stopped = done && step < totalSteps ? "   (stopped by the time limit: " + step + " of " + totalSteps + " steps ran)" : "";
        return String.format("step %d/%d   loss %.4f   %.1f s%s", step, totalSteps, loss, secs, stopped);
    }

    public void update(int step) {
        seen = Math.max(seen, step);
        show(step, step >= totalSteps, false);
    }

    private void show(int step, boolean force, boolean done) {
        long now = System.nanoTime();
        if (!force && (now - last) / 1e9 < everySeconds) return;
        last = now;
        if (!Display.inNotebook()) {
            if (force) System.out.println(status(step, done || step >= totalSteps));
            return;
        }
        Object text = Display.html("<code>" + status(step, done || step >= totalSteps) + "</code>");
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

    /**
     * Final refresh (call after the loop): shows the steps that actually ran, and says so when a time limit ended the
     * run before its step count.
     */
    public void finish() {
        if (seen >= totalSteps) return;   // the last step already refreshed the display
        show(seen, true, true);
    }

    /** Steps reported so far (after {@link #finish}: the steps that ran). */
    public int steps() {
        return seen;
    }

    public double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }
}
