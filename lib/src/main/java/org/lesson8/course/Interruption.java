package org.lesson8.course;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The notebook's stop button, as long loops see it. JJava answers an interrupt request by cancelling the running
 * cell ({@code Future.cancel(true)}, i.e. {@code Thread.interrupt()} on the cell's thread): it reports the cell as
 * interrupted at once and runs the next cell on a new thread, while the cell's own code runs on until it looks at
 * its thread's interrupt flag. Loops therefore call {@link #check} once per step, between two steps (never while a
 * {@code GradientCollector} is open), and end with {@link Stopped}.
 *
 * <p>The stopped cell has already been answered, so nothing it prints reaches the notebook. Its report is kept and
 * printed by the next step of any loop that runs on, usually the next training or sampling cell.
 */
public final class Interruption {
    /** Thrown between two steps of a loop whose thread was interrupted; its message says what was kept. */
    public static final class Stopped extends RuntimeException {
        private final int done;

        Stopped(String message, int done) {
            super(message);
            this.done = done;
        }

        /** Steps completed before the stop. */
        public int done() {
            return done;
        }
    }

    private static final AtomicReference<String> UNREPORTED = new AtomicReference<>();

    private Interruption() {}

    /**
     * Throws {@link Stopped} if the current thread was interrupted, clearing the interrupt (it is answered by the
     * exception). {@code task} names the loop ("training", "sampling"), {@code done} of {@code total} steps are
     * complete, and {@code kept} says what the caller still holds ("the log keeps 812 steps").
     */
    public static void check(String task, int done, int total, Supplier<String> kept) {
        if (Thread.interrupted()) {
            Stopped s = new Stopped(task + " was interrupted after step " + done + " of " + total + "; " + kept.get(), done);
            UNREPORTED.set(s.getMessage());
            throw s;
        }
        String earlier = UNREPORTED.getAndSet(null);
        if (earlier != null) System.out.println("(interrupted earlier) " + earlier);
    }
}
