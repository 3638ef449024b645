package org.lesson8.viz;

/** Principal component analysis by power iteration with deflation (enough for a 2-D embedding plot). */
public final class Pca {
    private Pca() {}

    /** Projects rows of {@code x} (n × d) onto their first {@code k} principal components. */
    public static double[][] project(double[][] x, int k) {
        int n = x.length, d = x[0].length;
        double[] mean = new double[d];
        for (double[] r : x) for (int j = 0; j < d; j++) mean[j] += r[j] / n;
        double[][] comps = components(x, k);
        double[][] out = new double[n][k];
        for (int i = 0; i < n; i++) for (int p = 0; p < k; p++) { double s = 0; for (int j = 0; j < d; j++) s += (x[i][j] - mean[j]) * comps[p][j]; out[i][p] = s; }
        return out;
    }

    /** The first {@code k} principal directions (unit vectors of length d) of the rows of {@code x}. */
    public static double[][] components(double[][] x, int k) {
        int n = x.length, d = x[0].length;
        double[] mean = new double[d];
        for (double[] r : x) for (int j = 0; j < d; j++) mean[j] += r[j] / n;
        double[][] c = new double[n][d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) c[i][j] = x[i][j] - mean[j];
        double[][] cov = new double[d][d];
        for (double[] r : c) for (int a = 0; a < d; a++) { if (r[a] == 0) continue; for (int b = 0; b < d; b++) cov[a][b] += r[a] * r[b] / n; }
        double[][] comps = new double[k][];
        java.util.Random rng = new java.util.Random(0);
        for (int p = 0; p < k; p++) {
            double[] v = new double[d];
            for (int j = 0; j < d; j++) v[j] = rng.nextGaussian();
            for (int it = 0; it < 300; it++) {
                double[] w = new double[d];
                for (int a = 0; a < d; a++) { double s = 0; for (int b = 0; b < d; b++) s += cov[a][b] * v[b]; w[a] = s; }
                for (int q = 0; q < p; q++) { double dot = 0; for (int j = 0; j < d; j++) dot += w[j] * comps[q][j]; for (int j = 0; j < d; j++) w[j] -= dot * comps[q][j]; }
                double norm = 0;
                for (double z : w) norm += z * z;
                norm = Math.sqrt(norm);
                if (norm == 0) break;
                for (int j = 0; j < d; j++) v[j] = w[j] / norm;
            }
            comps[p] = v;
        }
        return comps;
    }
}
