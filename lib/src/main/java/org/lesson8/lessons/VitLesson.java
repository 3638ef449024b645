package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import org.lesson8.models.Vit;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.lesson8.viz.Charts;
import org.lesson8.viz.Images;
import org.lesson8.viz.Pca;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Notebook 01 (ViT, slides on ViT): the paper's analysis figures, computed on our model:
 * Fig. 7 left (patch-embedding filters), Fig. 7 centre (position-embedding similarity),
 * Fig. 7 right (mean attention distance), Fig. 6 (attention rollout, Abnar &amp; Zuidema 2020).
 */
public final class VitLesson {
    private VitLesson() {}

    /** Cosine similarity between the position embeddings of all patches (CLS excluded): (N, N). */
    public static double[][] positionSimilarity(float[] pos, int tokens, int dim) {
        int n = tokens - 1;
        double[][] e = new double[n][dim];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int d = 0; d < dim; d++) { e[i][d] = pos[(i + 1) * dim + d]; norm += e[i][d] * e[i][d]; }
            norm = Math.sqrt(norm) + 1e-12;
            for (int d = 0; d < dim; d++) e[i][d] /= norm;
        }
        double[][] s = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { double v = 0; for (int d = 0; d < dim; d++) v += e[i][d] * e[j][d]; s[i][j] = v; }
        return s;
    }

    public static double[][] positionSimilarity(Vit vit) {
        return positionSimilarity(vit.posEmbed.toFloatArray(), vit.config.tokens(), vit.config.dim());
    }

    /** Fig. 7 centre as a grid of grids: tile (r, c) shows the similarity of patch (r, c) to every patch. */
    public static BufferedImage positionSimilarityImage(double[][] sim, int grid, int zoom) {
        int tile = grid * zoom;
        BufferedImage out = new BufferedImage(grid * (tile + 2) + 2, grid * (tile + 2) + 2, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        for (int p = 0; p < grid * grid; p++) {
            int ox = 2 + (p % grid) * (tile + 2), oy = 2 + (p / grid) * (tile + 2);
            for (int q = 0; q < grid * grid; q++) {
                g.setColor(Images.colour((sim[p][q] + 1) / 2));
                g.fillRect(ox + (q % grid) * zoom, oy + (q / grid) * zoom, zoom, zoom);
            }
        }
        g.dispose();
        return out;
    }

    /**
     * Mean attention distance (Fig. 7 right) of one layer: for each head, the attention-weighted
     * pixel distance from each query patch to the key patches (CLS excluded on both sides),
     * averaged over queries and images.
     *
     * @param att attention weights (B, H, T, T) flattened, T = grid² + 1, token 0 = CLS
     * @return one distance in pixels per head
     */
    public static double[] meanAttentionDistance(float[] att, int batch, int heads, int grid, int patch) {
        int t = grid * grid + 1;
        double[] out = new double[heads];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double sum = 0;
                for (int qi = 1; qi < t; qi++) {
                    int qr = (qi - 1) / grid, qc = (qi - 1) % grid;
                    double d = 0;
                    for (int ki = 1; ki < t; ki++) {
                        int kr = (ki - 1) / grid, kc = (ki - 1) % grid;
                        double dist = patch * Math.hypot(qr - kr, qc - kc);
                        d += att[((b * heads + h) * t + qi) * t + ki] * dist;
                    }
                    sum += d;
                }
                out[h] += sum / (t - 1) / batch;
            }
        }
        return out;
    }

    /**
     * The mean attention distance of a head that attends uniformly to every patch (CLS excluded), as
     * {@link #meanAttentionDistance(float[], int, int, int, int)} measures it: the mean pixel distance between two patches of
     * the grid (a patch with itself included). A head well below it looks near its query; near it, everywhere.
     */
    public static double uniformAttentionDistance(int grid, int patch) {
        int t = grid * grid + 1;
        float[] att = new float[t * t];
        for (int q = 1; q < t; q++) for (int k = 1; k < t; k++) att[q * t + k] = 1f / (t - 1);
        return meanAttentionDistance(att, 1, 1, grid, patch)[0];
    }

    /**
     * Fig. 7 right as a chart: one point per head and layer, uniform attention's distance as a line, the y axis from 0 to
     * a little above the image's half diagonal (so that local heads near 0 and far ones both show on an honest scale).
     */
    public static XYChart attentionDistanceChart(String title, double[][] dist, int grid, int patch) {
        XYChart chart = Charts.line(title, "層 (depth)", "平均注意距離 [pixel]");
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        int heads = dist[0].length;
        for (int h = 0; h < heads; h++) {
            double[] xs = new double[dist.length], ys = new double[dist.length];
            for (int l = 0; l < dist.length; l++) { xs[l] = l + 1; ys[l] = dist[l][h]; }
            chart.addSeries("ヘッド " + h, xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
        double uniform = uniformAttentionDistance(grid, patch);
        double[] xs = new double[dist.length], ys = new double[dist.length];
        for (int l = 0; l < dist.length; l++) { xs[l] = l + 1; ys[l] = uniform; }
        chart.addSeries("一様な注意（基準）", xs, ys).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line).setMarker(SeriesMarkers.NONE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(Math.ceil(grid * patch / Math.sqrt(2) / 5) * 5);
        return chart;
    }

    /** Mean attention distance per layer and head of {@code vit} on {@code images} (one forward pass with attentions). */
    public static double[][] meanAttentionDistance(Vit vit, NDArray images) {
        return meanAttentionDistance(vit.forward(images, true).attentions(), vit.config.grid(), vit.config.patch());
    }

    /** Mean attention distance per layer and head from {@link Vit.Output#attentions()}: [layer][head]. */
    public static double[][] meanAttentionDistance(List<NDArray> attentions, int grid, int patch) {
        double[][] out = new double[attentions.size()][];
        for (int l = 0; l < attentions.size(); l++) {
            long[] s = attentions.get(l).getShape().getShape();
            out[l] = meanAttentionDistance(attentions.get(l).toFloatArray(), (int) s[0], (int) s[1], grid, patch);
        }
        return out;
    }

    /**
     * Attention rollout for one image: average the heads, add the identity (residual path),
     * renormalise rows, multiply through the layers; returns the full (T, T) matrix.
     */
    public static double[][] rollout(List<float[]> perLayerAtt, int heads, int t) {
        double[][] r = identity(t);
        for (float[] a : perLayerAtt) {
            double[][] m = new double[t][t];
            for (int h = 0; h < heads; h++) for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) m[i][j] += a[(h * t + i) * t + j] / heads;
            for (int i = 0; i < t; i++) {
                m[i][i] += 1;
                double s = 0;
                for (int j = 0; j < t; j++) s += m[i][j];
                for (int j = 0; j < t; j++) m[i][j] /= s;
            }
            r = matmul(m, r);
        }
        return r;
    }

    /** The rollout's CLS row over the patches, as a grid×grid map, for image {@code b} of a batch. */
    public static double[][] rolloutMap(List<NDArray> attentions, int b, int grid) {
        int t = grid * grid + 1;
        List<float[]> per = attentions.stream().map(a -> a.get(b).toFloatArray()).toList();
        int heads = (int) attentions.get(0).getShape().get(1);
        double[][] r = rollout(per, heads, t);
        double[][] map = new double[grid][grid];
        for (int k = 1; k < t; k++) map[(k - 1) / grid][(k - 1) % grid] = r[0][k];
        return map;
    }

    /** The image with the rollout map overlaid (bright = attended). */
    public static BufferedImage overlay(float[] grey, int size, double[][] map, int zoom) {
        int grid = map.length, patch = size / grid;
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (double[] r : map) for (double v : r) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        BufferedImage out = new BufferedImage(size * zoom, size * zoom, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) {
            double a = hi > lo ? (map[Math.min(grid - 1, y / patch)][Math.min(grid - 1, x / patch)] - lo) / (hi - lo) : 0;
            Color c = Images.colour(a);
            double px = grey[y * size + x];
            int r = (int) (255 * (0.5 * px) + 0.5 * c.getRed()), g = (int) (255 * (0.5 * px) + 0.5 * c.getGreen()), bl = (int) (255 * (0.5 * px) + 0.5 * c.getBlue());
            int rgb = (Math.min(255, r) << 16) | (Math.min(255, g) << 8) | Math.min(255, bl);
            for (int dy = 0; dy < zoom; dy++) for (int dx = 0; dx < zoom; dx++) out.setRGB(x * zoom + dx, y * zoom + dy, rgb);
        }
        return out;
    }

    /** The first {@code k} principal components of the patch-embedding filters (Fig. 7 left), as P×P images in [0, 1]. */
    public static BufferedImage[] filterComponents(Vit vit, int k, int zoom) {
        float[] w = vit.patchEmbed.weight.toFloatArray();
        int d = vit.config.dim(), p = vit.config.patch(), c = vit.config.channels();
        int len = c * p * p;
        double[][] filters = new double[d][len];
        for (int i = 0; i < d; i++) for (int j = 0; j < len; j++) filters[i][j] = w[i * len + j];
        double[][] comps = Pca.components(filters, k);
        BufferedImage[] out = new BufferedImage[k];
        for (int q = 0; q < k; q++) {
            float[] img = new float[len];
            double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
            for (double v : comps[q]) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
            for (int j = 0; j < len; j++) img[j] = (float) (hi > lo ? (comps[q][j] - lo) / (hi - lo) : 0.5);
            out[q] = Images.fromChw(img, c, p, p, zoom);
        }
        return out;
    }

    static double[][] identity(int n) {
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) m[i][i] = 1;
        return m;
    }

    static double[][] matmul(double[][] a, double[][] b) {
        int n = a.length, k = b.length, m = b[0].length;
        double[][] o = new double[n][m];
        for (int i = 0; i < n; i++) for (int l = 0; l < k; l++) { double v = a[i][l]; if (v == 0) continue; for (int j = 0; j < m; j++) o[i][j] += v * b[l][j]; }
        return o;
    }
}
