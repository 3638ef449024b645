package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.NdTest;
import org.lesson8.nn.Module;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Buffers: stored with the weights, never trained. */
class CheckpointTest extends NdTest {
    static final class Scaled extends Module {
        final NDArray w;
        final NDArray scale;

        Scaled(NDManager m, float s) {
            super(m);
            w = param("w", m.ones(new Shape(2, 3)), true);
            scale = buffer("scale", m.create(new float[] {s}));
        }
    }

    @Test
    void buffersAreNotParameters() {
        Scaled s = new Scaled(m, 2f);
        assertEquals(List.of("w"), List.copyOf(s.parameters().keySet()));
        assertEquals(List.of("w"), List.copyOf(s.decayFlags().keySet()));
        assertEquals(1, s.parameterList().size());
        assertEquals(6, s.parameterCount());
        assertEquals(List.of("scale"), List.copyOf(s.buffers().keySet()));
        assertEquals(List.of("w", "scale"), List.copyOf(s.state().keySet()));
        assertFalse(s.scale.hasGradient());
    }

    @Test
    void buffersAreSavedAndLoaded(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scaled.safetensors");
        Checkpoint.save(new Scaled(m, 0.25f), f);
        assertEquals(List.of("scale", "w"), Checkpoint.read(m, f).keySet().stream().sorted().toList());
        Scaled b = new Scaled(m, 1f);
        Checkpoint.load(b, f);
        assertEquals(0.25f, b.scale.getFloat(0), 0f);
    }

    @Test
    void aCheckpointWithoutTheBufferIsRefused(@TempDir Path dir) throws Exception {
        final class Plain extends Module {
            Plain(NDManager m) {
                super(m);
                param("w", m.ones(new Shape(2, 3)), true);
            }
        }
        Path f = dir.resolve("plain.safetensors");
        Checkpoint.save(new Plain(m), f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(new Scaled(m, 1f), f));
        assertTrue(e.getMessage().contains("'scale'") && e.getMessage().contains("missing"), e.getMessage());
    }
}
