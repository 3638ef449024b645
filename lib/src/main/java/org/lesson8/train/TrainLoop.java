package org.lesson8.train;

import ai.djl.engine.Engine;
import org.lesson8.course.Interruption;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import org.lesson8.nn.Module;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The training loop shared by every notebook, for custom objectives:
 * <pre>
 *   for each step:  (fresh sub-manager + NDScope)
 *       open a GradientCollector (try-with-resources, so a failing step never leaves one open)
 *       loss = objective(batch);  backward(loss)
 *       clip by global norm, AdamW update, zero gradients
 * </pre>
 * Every array of a step is freed when the step ends, so native memory stays flat. {@link #run} and {@link #runFor}
 * stop between two steps when the notebook's stop button interrupts them ({@link Interruption}).
 */
public final class TrainLoop {
    /** Computes the scalar loss of one step; extra metrics may be put into {@code metrics}. */
    @FunctionalInterface
    public interface Objective {
        NDArray loss(NDManager m, int step, Map<String, Double> metrics);
    }

    /**
     * DJL allows one open GradientCollector per JVM. A loop stopped from the notebook may still be finishing its
     * step on the old cell's thread when the next cell starts training: that cell waits for the step to end.
     */
    private static final Object COLLECTOR = new Object();

    private final Module model;
    private final Optim optim;
    private final MetricsLog log;
    private int step;

    public TrainLoop(Module model, Optim optim, MetricsLog log) {
        this.model = model;
        this.optim = optim;
        this.log = log;
    }

    public MetricsLog log() {
        return log;
    }

    public Optim optim() {
        return optim;
    }

    public int step() {
        return step;
    }

    /** Runs one step and logs "loss", "lr", "grad_norm" and the objective's own metrics. */
    public float step(Objective objective) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        float loss;
        float lr;
        float norm;
        synchronized (COLLECTOR) {
            try (NDManager sub = model.getManager().newSubManager(); NDScope scope = new NDScope()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray l = objective.loss(sub, step, metrics);
                    gc.backward(l);
                    loss = l.getFloat();
                }
            }
            if (!Float.isFinite(loss)) {
                throw new IllegalStateException("loss became " + loss + " at step " + step
                        + ": lower the learning rate or check the inputs");
            }
            lr = optim.learningRate(optim.steps() + 1);
            norm = optim.step();
        }
        step++;
        Map<String, Double> row = new LinkedHashMap<>();
        row.put("loss", (double) loss);
        row.put("lr", (double) lr);
        row.put("grad_norm", (double) norm);
        row.putAll(metrics);
        log.log(step, row);
        return loss;
    }

    /**
     * Runs {@code steps} steps, calling {@code onStep} after each (e.g. to refresh a live chart). An interrupt ends
     * the run after the current step with {@link Interruption.Stopped}; the log and the weights keep that step.
     */
    public void run(int steps, Objective objective, IntConsumer onStep) {
        runFor(Double.POSITIVE_INFINITY, steps, objective, onStep);
    }

    /** Runs until {@code seconds} of wall time have passed or {@code maxSteps} steps were made; stops as {@link #run}. */
    public void runFor(double seconds, int maxSteps, Objective objective, IntConsumer onStep) {
        long start = System.nanoTime();
        for (int i = 0; i < maxSteps && (System.nanoTime() - start) / 1e9 < seconds; i++) {
            Interruption.check("training", i, maxSteps,
                    () -> "the log keeps its " + log.size() + " steps and the model its weights");
            step(objective);
            if (onStep != null) onStep.accept(step);
        }
    }

    /** Runs {@code body} with gradients off and all its temporary arrays freed afterwards. */
    public static <T> T noGrad(java.util.function.Function<NDManager, T> body, NDManager parent) {
        try (NDManager sub = parent.newSubManager(); NDScope scope = new NDScope()) {
            return body.apply(sub);
        }
    }
}
