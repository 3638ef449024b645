package org.lesson8.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The scalars of {@link Nd} must outlive a garbage collection between the forward and the backward pass
 * (DJL's own {@code x.mul(2.5)} does not: its scalar's memory is freed by the GC, and the backward pass reads
 * whatever was written there since).
 */
class ScalarOpsTest extends NdTest {

    /** d/dx of sum(op(x)) at x = (1, 2, 3), with a GC and fresh direct buffers between forward and backward. */
    private static float[] gradientAfterGc(UnaryOperator<NDArray> op) throws InterruptedException {
        try (NDManager s = m.newSubManager()) {
            NDArray x = s.create(new float[] {1, 2, 3});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = op.apply(x);
                System.gc();
                Thread.sleep(20);                                   // let the cleaner free unreachable buffers
                List<ByteBuffer> junk = new ArrayList<>();
                for (int i = 0; i < 500; i++) junk.add(ByteBuffer.allocateDirect(4).putFloat(0, -7.5f));
                gc.backward(y.sum());
                assertEquals(500, junk.size());
            }
            return x.getGradient().toFloatArray();
        }
    }

    @Test
    void scalarOperandsSurviveGarbageCollectionBeforeBackward() throws InterruptedException {
        for (int round = 0; round < 5; round++) {
            assertArrayEquals(new float[] {3, 3, 3}, gradientAfterGc(x -> Nd.mul(x, 3)), "mul");
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, gradientAfterGc(x -> Nd.div(x, 2)), "div");
            assertArrayEquals(new float[] {2, 4, 6}, gradientAfterGc(x -> Nd.pow(x, 2)), 1e-5f, "pow");
            assertArrayEquals(new float[] {0, 1, 1}, gradientAfterGc(x -> Nd.maximum(x, 1.5)), "maximum");
            assertArrayEquals(new float[] {1, 0, 0}, gradientAfterGc(x -> Nd.minimum(x, 1.5)), "minimum");
            assertArrayEquals(new float[] {4, 4, 4}, gradientAfterGc(x -> Nd.muli(x.mul(x.onesLike()), 4)), "muli");
        }
    }

    @Test
    void valuesAndDataType() {
        NDArray x = m.create(new double[] {1, 4});
        NDArray y = Nd.mul(x, 2.5);
        assertEquals(ai.djl.ndarray.types.DataType.FLOAT64, y.getDataType());
        assertArrayEquals(new double[] {2.5, 10}, y.toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {1, 16}, Nd.pow(x, 2).toDoubleArray(), 1e-12);
    }

    /** The library must not use DJL's Number overloads of the operations whose backward pass keeps the scalar. */
    @Test
    void libraryUsesNoUnsafeScalarOverloads() throws IOException {
        Pattern unsafe = Pattern.compile(
                "(?<![A-Za-z])(?<!Math)\\.(mul|muli|div|divi|pow|powi|maximum|minimum)\\(\\s*(-?[0-9.]|Math\\.|\\(float\\)|\\(double\\)|[0-9]+\\s*-)");
        List<String> hits = new ArrayList<>();
        Path root = Path.of("src/main/java");
        assertTrue(Files.isDirectory(root), "run from lib/ (Maven does): " + root.toAbsolutePath());
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i).strip();
                    if (line.startsWith("*") || line.startsWith("//")) continue;
                    Matcher mt = unsafe.matcher(line);
                    if (mt.find()) hits.add(root.relativize(f) + ":" + (i + 1) + ": " + line);
                }
            }
        }
        assertTrue(hits.isEmpty(), "use org.lesson8.nn.Nd for arithmetic with a Java number:\n" + String.join("\n", hits));
    }
}
