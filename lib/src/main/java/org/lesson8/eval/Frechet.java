package org.lesson8.eval;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * Fréchet distance between two Gaussians fitted to feature sets (the FID of Heusel et al. 2017, here in the feature
 * space of any classifier):
 * <pre>
 *   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½),   Tr (Σ₁Σ₂)^½ = Σ sqrt(λ_i( Σ₁^½ Σ₂ Σ₁^½ ))
 * </pre>
 * The symmetric square roots come from commons-math3's eigen-decomposition (negative round-off eigenvalues → 0).
 */
public final class Frechet {
    private Frechet() {}

    /** Mean and covariance (unbiased, n − 1) of the rows of {@code x}. */
    public record Stats(double[] mean, double[][] cov, int n) {}

    public static Stats stats(double[][] x) {
        if (x.length < 2) throw new IllegalArgumentException("need at least 2 feature vectors, got " + x.length);
        int n = x.length, d = x[0].length;
        double[] mu = new double[d];
        for (double[] r : x) for (int j = 0; j < d; j++) mu[j] += r[j] / n;
        double[][] cov = new double[d][d];
        for (double[] r : x) {
            for (int i = 0; i < d; i++) {
                double a = r[i] - mu[i];
                for (int j = i; j < d; j++) cov[i][j] += a * (r[j] - mu[j]);
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                cov[i][j] /= n - 1;
                cov[j][i] = cov[i][j];
            }
        }
        return new Stats(mu, cov, n);
    }

    public static double distance(double[][] a, double[][] b) {
        return distance(stats(a), stats(b));
    }

    public static double distance(Stats a, Stats b) {
        int d = a.mean().length;
        if (b.mean().length != d) throw new IllegalArgumentException("feature sizes differ: " + d + " vs " + b.mean().length);
        double meanTerm = 0;
        for (int i = 0; i < d; i++) meanTerm += (a.mean()[i] - b.mean()[i]) * (a.mean()[i] - b.mean()[i]);
        RealMatrix s1 = new Array2DRowRealMatrix(a.cov());
        RealMatrix s2 = new Array2DRowRealMatrix(b.cov());
        RealMatrix root1 = sqrtSym(s1);
        RealMatrix m = root1.multiply(s2).multiply(root1);
        m = m.add(m.transpose()).scalarMultiply(0.5);   // symmetric up to round-off
        double traceSqrt = 0;
        for (double l : new EigenDecomposition(m).getRealEigenvalues()) traceSqrt += Math.sqrt(Math.max(0, l));
        return meanTerm + s1.getTrace() + s2.getTrace() - 2 * traceSqrt;
    }

    /** The symmetric positive semi-definite square root V diag(sqrt λ) Vᵀ. */
    static RealMatrix sqrtSym(RealMatrix s) {
        EigenDecomposition e = new EigenDecomposition(s);
        RealMatrix v = e.getV();
        double[] l = e.getRealEigenvalues();
        int d = l.length;
        double[][] dd = new double[d][d];
        for (int i = 0; i < d; i++) dd[i][i] = Math.sqrt(Math.max(0, l[i]));
        return v.multiply(new Array2DRowRealMatrix(dd)).multiply(v.transpose());
    }
}
