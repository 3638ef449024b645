package org.lesson8.eval;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class FrechetTest {
    @Test
    void diagonalGaussiansMatchTheClosedForm() {
        // for diagonal covariances d² = ‖μ₁ − μ₂‖² + Σ (σ₁ᵢ − σ₂ᵢ)²
        var a = new Frechet.Stats(new double[] {0, 0}, new double[][] {{4, 0}, {0, 1}}, 100);
        var b = new Frechet.Stats(new double[] {1, 2}, new double[][] {{1, 0}, {0, 9}}, 100);
        assertEquals(1 + 4 + (2 - 1) * (2 - 1) + (1 - 3) * (1 - 3), Frechet.distance(a, b), 1e-9);
        assertEquals(0, Frechet.distance(a, a), 1e-9);
    }

    @Test
    void nonDiagonalCovarianceAgainstHandComputedValue() {
        // Σ₁ = [[2, 1], [1, 2]] (eigenvalues 3, 1), Σ₂ = I: Tr Σ₁ + Tr Σ₂ − 2 Tr Σ₁^½ = 4 + 2 − 2(√3 + 1)
        var a = new Frechet.Stats(new double[] {0, 0}, new double[][] {{2, 1}, {1, 2}}, 10);
        var b = new Frechet.Stats(new double[] {0, 0}, new double[][] {{1, 0}, {0, 1}}, 10);
        assertEquals(6 - 2 * (Math.sqrt(3) + 1), Frechet.distance(a, b), 1e-9);
    }

    @Test
    void statsAndSampleDistance() {
        Random r = new Random(1);
        double[][] x = new double[4000][3];
        double[][] y = new double[4000][3];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < 3; j++) {
                x[i][j] = r.nextGaussian();
                y[i][j] = 2 * r.nextGaussian() + (j == 0 ? 3 : 0);
            }
        }
        Frechet.Stats s = Frechet.stats(y);
        assertEquals(3, s.mean()[0], 0.15);
        assertEquals(4, s.cov()[1][1], 0.3);
        // expected: 3² + 3·(2 − 1)² = 12
        assertEquals(12, Frechet.distance(x, y), 0.8);
        assertThrows(IllegalArgumentException.class, () -> Frechet.stats(new double[1][3]));
    }
}
