package org.lesson8.train;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.lesson8.nn.Linear;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ModelSoupTest {
    private static Linear linear(NDManager m, int seed, int in, int out, float... weights) {
        Linear l = new Linear(m, new Random(seed), in, out);
        if (weights.length > 0) l.weight.set(weights);
        return l;
    }

    @Test
    void theSoupIsTheElementWiseMeanOfTheCopies() {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear a = linear(m, 1, 2, 1, 1f, -2f);
            Linear b = linear(m, 2, 2, 1, 3f, 4f);
            Linear c = linear(m, 3, 2, 1, 5f, 1f);
            a.bias.set(new float[] {0.5f});
            b.bias.set(new float[] {-1f});
            c.bias.set(new float[] {2f});
            ModelSoup soup = new ModelSoup();
            soup.add(a);
            soup.add(b);
            soup.add(c);
            Linear target = linear(m, 4, 2, 1);
            soup.loadInto(target);
            assertArrayEquals(new float[] {3f, 1f}, target.weight.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {0.5f}, target.bias.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {1f, -2f}, a.weight.toFloatArray(), "the copies are left as they were");
            // one copy: the soup is that copy
            ModelSoup one = new ModelSoup();
            one.add(b);
            one.loadInto(target);
            assertArrayEquals(b.weight.toFloatArray(), target.weight.toFloatArray());
        }
    }

    @Test
    void refusesAnEmptySoupAndCopiesOfAnotherConfiguration() {
        try (NDManager m = NDManager.newBaseManager()) {
            ModelSoup soup = new ModelSoup();
            Linear target = linear(m, 1, 2, 1);
            IllegalStateException empty = assertThrows(IllegalStateException.class, () -> soup.loadInto(target));
            assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
            soup.add(target);
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> soup.add(linear(m, 2, 3, 1)));
            assertTrue(shape.getMessage().contains("'weight'") && shape.getMessage().contains("(1, 3)"), shape.getMessage());
            IllegalArgumentException names = assertThrows(IllegalArgumentException.class,
                    () -> soup.loadInto(new Linear(m, new Random(3), 2, 1, false)));
            assertTrue(names.getMessage().contains("lacks parameter 'bias'"), names.getMessage());
            Linear fresh = linear(m, 5, 2, 1);
            soup.loadInto(fresh);
            assertArrayEquals(target.weight.toFloatArray(), fresh.weight.toFloatArray(), "a refused copy is not added");
        }
    }
}
