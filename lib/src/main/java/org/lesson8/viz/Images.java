package org.lesson8.viz;

import ai.djl.ndarray.NDArray;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/** Images from arrays, image grids with captions, and heatmaps with a colour map. */
public final class Images {
    private Images() {}

    /** An image from a CHW float array in [0, 1] (1 or 3 channels), scaled up by {@code zoom}. */
    public static BufferedImage fromChw(float[] v, int channels, int h, int w, int zoom) {
        BufferedImage img = new BufferedImage(w * zoom, h * zoom, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r, g, b;
                if (channels == 1) {
                    r = g = b = to255(v[y * w + x]);
                } else {
                    r = to255(v[y * w + x]);
                    g = to255(v[h * w + y * w + x]);
                    b = to255(v[2 * h * w + y * w + x]);
                }
                int rgb = (r << 16) | (g << 8) | b;
                for (int dy = 0; dy < zoom; dy++) for (int dx = 0; dx < zoom; dx++) img.setRGB(x * zoom + dx, y * zoom + dy, rgb);
            }
        }
        return img;
    }

    private static int to255(float f) {
        return Math.max(0, Math.min(255, Math.round(f * 255f)));
    }

    /** A grid of images from an NDArray (n, C, H, W) in [0, 1], with optional captions under each. */
    public static BufferedImage grid(NDArray images, int columns, int zoom, List<String> captions) {
        long[] s = images.getShape().getShape();
        int n = (int) s[0], c = (int) s[1], h = (int) s[2], w = (int) s[3];
        float[] all = images.toFloatArray();
        BufferedImage[] tiles = new BufferedImage[n];
        int px = c * h * w;
        for (int i = 0; i < n; i++) {
            float[] one = new float[px];
            System.arraycopy(all, i * px, one, 0, px);
            tiles[i] = fromChw(one, c, h, w, zoom);
        }
        return grid(tiles, columns, captions);
    }

    /** A grid of tiles with captions (captions may be null). */
    public static BufferedImage grid(BufferedImage[] tiles, int columns, List<String> captions) {
        int n = tiles.length;
        int cols = Math.max(1, Math.min(columns, n));
        int rows = (n + cols - 1) / cols;
        int tw = 0, th = 0;
        for (BufferedImage t : tiles) { tw = Math.max(tw, t.getWidth()); th = Math.max(th, t.getHeight()); }
        int capH = captions == null ? 0 : 40;
        int pad = 4;
        int cellW = Math.max(tw, captions == null ? 0 : 96);
        BufferedImage out = new BufferedImage(cols * (cellW + pad) + pad, rows * (th + capH + pad) + pad, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(Fonts.font(Font.PLAIN, 10));
        g.setColor(Color.DARK_GRAY);
        for (int i = 0; i < n; i++) {
            int x = pad + (i % cols) * (cellW + pad);
            int y = pad + (i / cols) * (th + capH + pad);
            g.drawImage(tiles[i], x + (cellW - tiles[i].getWidth()) / 2, y, null);
            if (captions != null && i < captions.size()) drawWrapped(g, captions.get(i), x, y + th + 11, cellW);
        }
        g.dispose();
        return out;
    }

    private static void drawWrapped(Graphics2D g, String text, int x, int y, int width) {
        String[] words = text.split(" ");
        StringBuilder line = new StringBuilder();
        int lines = 0;
        for (String w : words) {
            String cand = line.length() == 0 ? w : line + " " + w;
            if (g.getFontMetrics().stringWidth(cand) > width && line.length() > 0) {
                g.drawString(line.toString(), x, y + lines * 11);
                lines++;
                line = new StringBuilder(w);
                if (lines == 3) return;
            } else {
                line = new StringBuilder(cand);
            }
        }
        if (lines < 3) g.drawString(line.toString(), x, y + lines * 11);
    }

    /** Viridis-like colour for t in [0, 1]. */
    public static Color colour(double t) {
        t = Math.max(0, Math.min(1, t));
        double[][] stops = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
        double p = t * (stops.length - 1);
        int i = Math.min(stops.length - 2, (int) p);
        double f = p - i;
        return new Color((int) (stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
                (int) (stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
                (int) (stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
    }

    /**
     * A heatmap of a matrix with optional row/column labels and the values written in the cells when
     * {@code annotate} (for small matrices such as a confusion matrix).
     */
    public static BufferedImage heatmap(String title, double[][] m, List<String> rowLabels, List<String> colLabels,
                                        int cell, boolean annotate) {
        int rows = m.length, cols = m[0].length;
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (double[] r : m) for (double v : r) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        int left = rowLabels == null ? 6 : 100, top = (title == null ? 6 : 24) + (colLabels == null ? 0 : 70);
        int barX = left + cols * cell + 12, barW = 12, barH = Math.max(60, rows * cell);
        BufferedImage out = new BufferedImage(barX + barW + 60, Math.max(top + rows * cell, top + barH) + 8, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setColor(Color.BLACK);
        if (title != null) {
            g.setFont(Fonts.font(Font.BOLD, 13));
            g.drawString(title, 6, 16);
        }
        g.setFont(Fonts.font(Font.PLAIN, 10));
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double t = hi > lo ? (m[i][j] - lo) / (hi - lo) : 0.5;
                g.setColor(colour(t));
                g.fillRect(left + j * cell, top + i * cell, cell, cell);
                if (annotate) {
                    g.setColor(t > 0.6 ? Color.BLACK : Color.WHITE);
                    String s = m[i][j] == Math.rint(m[i][j]) ? String.valueOf((long) m[i][j]) : String.format("%.2f", m[i][j]);
                    g.drawString(s, left + j * cell + 2, top + i * cell + cell / 2 + 4);
                }
            }
            if (rowLabels != null) {
                g.setColor(Color.BLACK);
                g.drawString(rowLabels.get(i), 4, top + i * cell + cell / 2 + 4);
            }
        }
        if (colLabels != null) {
            g.setColor(Color.BLACK);
            for (int j = 0; j < cols; j++) {
                Graphics2D r = (Graphics2D) g.create();
                r.translate(left + j * cell + cell / 2 + 3, top - 4);
                r.rotate(-Math.PI / 2.5);
                r.drawString(colLabels.get(j), 0, 0);
                r.dispose();
            }
        }
        drawColourBar(g, barX, top, barW, barH, label(hi), label((lo + hi) / 2), label(lo));
        g.dispose();
        return out;
    }

    private static String label(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e6) return String.valueOf((long) v);
        return Math.abs(v) >= 100 || (v != 0 && Math.abs(v) < 0.01) ? String.format("%.2g", v) : String.format("%.2f", v);
    }

    /** A vertical colour scale (top = high) with labels for the top, middle and bottom. */
    static void drawColourBar(Graphics2D g, int x, int y, int w, int h, String top, String middle, String bottom) {
        gradient(g, x, y, w, h, true);
        g.setFont(Fonts.font(Font.PLAIN, 10));
        g.drawString(top, x + w + 3, y + 9);
        if (middle != null) g.drawString(middle, x + w + 3, y + h / 2 + 4);
        g.drawString(bottom, x + w + 3, y + h - 1);
    }

    /** The colour map over a w×h box with a grey frame: high at the top ({@code vertical}) or at the right. */
    private static void gradient(Graphics2D g, int x, int y, int w, int h, boolean vertical) {
        int n = vertical ? h : w;
        for (int k = 0; k < n; k++) {
            double t = k / (double) Math.max(1, n - 1);
            g.setColor(colour(vertical ? 1.0 - t : t));
            if (vertical) g.fillRect(x, y + k, w, 1);
            else g.fillRect(x + k, y, 1, h);
        }
        g.setColor(Color.DARK_GRAY);
        if (vertical) g.drawRect(x, y, w, h - 1);
        else g.drawRect(x, y, w - 1, h);
    }

    /**
     * A horizontal colour scale as a small image, for figures whose colours are normalised per image
     * (such as attention rollouts): {@code low} and {@code high} say what the two ends mean.
     */
    public static BufferedImage colourScale(String low, String high, int width) {
        BufferedImage out = new BufferedImage(width, 34, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, 34);
        int bw = width - 12;
        gradient(g, 6, 4, bw, 12, false);
        g.setFont(Fonts.font(Font.PLAIN, 10));
        g.drawString(low, 6, 30);
        g.drawString(high, 6 + bw - g.getFontMetrics().stringWidth(high), 30);
        g.dispose();
        return out;
    }

    /** Places images side by side with a small gap. */
    public static BufferedImage row(BufferedImage... images) {
        int w = 0, h = 0;
        for (BufferedImage i : images) { w += i.getWidth() + 8; h = Math.max(h, i.getHeight()); }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int x = 0;
        for (BufferedImage i : images) { g.drawImage(i, x, 0, null); x += i.getWidth() + 8; }
        g.dispose();
        return out;
    }
}
