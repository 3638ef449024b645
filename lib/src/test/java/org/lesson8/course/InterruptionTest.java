package org.lesson8.course;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.Samplers;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Optim;
import org.lesson8.train.TrainLoop;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class InterruptionTest {
    static final class Tiny extends Module {
        final Linear lin;

        Tiny(NDManager m) {
            super(m);
            lin = child("lin", new Linear(m, new Random(0), 3, 1));
        }
    }

    private static TrainLoop.Objective meanOutput(Tiny model, Runnable during) {
        return (sub, step, metrics) -> {
            during.run();
            return model.lin.forward(sub.ones(new Shape(4, 3))).square().mean();
        };
    }

    @Test
    void anInterruptDuringAStepStopsTrainingAfterThatStepAndTheNextRunTrains() {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny model = new Tiny(m);
            TrainLoop loop = new TrainLoop(model, new Optim(model, 1e-2f, 0f, 0, 100, 0f), new MetricsLog());
            float[] before = model.lin.weight.toFloatArray();
            Interruption.Stopped s = assertThrows(Interruption.Stopped.class,
                    () -> loop.run(100, meanOutput(model, () -> {
                        if (loop.step() == 4) Thread.currentThread().interrupt();
                    }), null));
            assertEquals(5, s.done());
            assertEquals(5, loop.step());
            assertEquals(5, loop.log().size());
            assertEquals("training was interrupted after step 5 of 100; the log keeps its 5 steps and the model its weights",
                    s.getMessage());
            assertFalse(Thread.currentThread().isInterrupted(), "the exception answers the interrupt");
            assertFalse(java.util.Arrays.equals(before, model.lin.weight.toFloatArray()), "the 5 updates are kept");

            String printed = capturingOut(() -> loop.run(3, meanOutput(model, () -> {}), null));
            assertEquals(8, loop.log().size(), "no collector was left open: the next run trains");
            assertEquals("(interrupted earlier) " + s.getMessage(), printed.strip());
            assertEquals("", capturingOut(() -> loop.run(1, meanOutput(model, () -> {}), null)), "reported once");
        }
    }

    @Test
    void aLoopStoppedOnAnotherThreadFinishesItsStepBeforeTheNextCellTrains() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny old = new Tiny(m);
            TrainLoop oldLoop = new TrainLoop(old, new Optim(old, 1e-2f, 0f, 0, 1000, 0f), new MetricsLog());
            CountDownLatch inStep = new CountDownLatch(1);
            AtomicReference<Throwable> oldEnd = new AtomicReference<>();
            Thread cell = new Thread(() -> {
                try {
                    oldLoop.run(1000, meanOutput(old, () -> {
                        if (oldLoop.step() == 3) {   // the stop arrives while this step's collector is open
                            inStep.countDown();
                            long until = System.nanoTime() + 300_000_000L;
                            while (System.nanoTime() < until) Thread.onSpinWait();
                        }
                    }), null);
                } catch (Throwable t) {
                    oldEnd.set(t);
                }
            });
            cell.start();
            assertTrue(inStep.await(30, TimeUnit.SECONDS));
            cell.interrupt();

            Tiny fresh = new Tiny(m);
            TrainLoop next = new TrainLoop(fresh, new Optim(fresh, 1e-2f, 0f, 0, 5, 0f), new MetricsLog());
            next.run(5, meanOutput(fresh, () -> {}), null);
            assertEquals(5, next.log().size());

            cell.join(30_000);
            assertInstanceOf(Interruption.Stopped.class, oldEnd.get());
            assertEquals(4, oldLoop.log().size());
        }
    }

    @Test
    void samplingStopsBetweenDenoisingSteps() {
        try (NDManager m = NDManager.newBaseManager()) {
            GaussianDiffusion d = GaussianDiffusion.linear(50, GaussianDiffusion.Variance.FIXED_SMALL);
            AtomicInteger calls = new AtomicInteger();
            Interruption.Stopped s = assertThrows(Interruption.Stopped.class, () -> Samplers.ddim(d, (xt, t, cond) -> {
                if (calls.incrementAndGet() == 10) Thread.currentThread().interrupt();
                return xt.zerosLike();
            }, m.zeros(new Shape(2, 1, 4, 4)), null, 0, null, false, null));
            assertEquals(10, calls.get());
            assertEquals(10, s.done());
            assertEquals("sampling was interrupted after step 10 of 50; no sample was returned", s.getMessage());
            NDArray again = Samplers.ddim(d, (xt, t, cond) -> xt.zerosLike(), m.zeros(new Shape(2, 1, 4, 4)), null, 0, null, false, null);
            assertEquals(new Shape(2, 1, 4, 4), again.getShape());
        }
    }

    private static String capturingOut(Runnable body) {
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setOut(out);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
