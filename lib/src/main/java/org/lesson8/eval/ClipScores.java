package org.lesson8.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.lesson8.course.Interruption;
import org.lesson8.models.Clip;

import java.util.Arrays;
import java.util.List;

/**
 * CLIP as a measuring instrument: unit-norm embeddings of many images or captions (in chunks, without gradients),
 * their cosine similarities, the best matches, and the CLIP score of image–caption pairs (the cosine of their
 * embeddings; Hessel et al. 2021 scale it by 100 and clip at 0, we report the plain cosine). DALL·E reranks its
 * samples with it and the shared text-to-image evaluation reports it.
 */
public final class ClipScores {
    private ClipScores() {}

    /** Unit-norm image embeddings of many images, computed in chunks without gradients, as a Java matrix. */
    public static float[][] embedImages(Clip clip, NDManager m, NDArray images, int chunk) {
        long n = images.getShape().get(0);
        float[][] out = new float[(int) n][];
        for (long s = 0; s < n; s += chunk) {
            Interruption.check("embedding", (int) s, (int) n, () -> "no result was returned");
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                NDArray x = images.get(s + ":" + Math.min(n, s + chunk));
                float[] v = clip.embedImages(x).toFloatArray();
                int e = clip.config.embedDim();
                for (int i = 0; i < v.length / e; i++) out[(int) s + i] = Arrays.copyOfRange(v, i * e, (i + 1) * e);
            }
        }
        return out;
    }

    /** Unit-norm text embeddings as a Java matrix (no gradients kept). */
    public static float[][] embedTexts(Clip clip, NDManager m, List<String> captions) {
        float[][] out = new float[captions.size()][];
        int e = clip.config.embedDim();
        for (int s = 0; s < captions.size(); s += 500) {
            Interruption.check("embedding", s, captions.size(), () -> "no result was returned");
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                float[] v = clip.embedTexts(sub, captions.subList(s, Math.min(captions.size(), s + 500))).toFloatArray();
                for (int i = 0; i < v.length / e; i++) out[s + i] = Arrays.copyOfRange(v, i * e, (i + 1) * e);
            }
        }
        return out;
    }

    /** Cosine similarities a · bᵀ of unit-norm rows. */
    public static double[][] cosine(float[][] a, float[][] b) {
        double[][] s = new double[a.length][b.length];
        for (int i = 0; i < a.length; i++)
            for (int j = 0; j < b.length; j++) {
                double d = 0;
                for (int k = 0; k < a[i].length; k++) d += a[i][k] * b[j][k];
                s[i][j] = d;
            }
        return s;
    }

    /** Indices of the k largest values of a row, best first. */
    public static int[] topK(double[] row, int k) {
        Integer[] idx = new Integer[row.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (x, y) -> Double.compare(row[y], row[x]));
        int[] out = new int[Math.min(k, idx.length)];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        return out;
    }

    /** The cosine of each image with its own caption: images (N, 3, 28, 28) and N captions → N scores. */
    public static double[] clipScore(Clip clip, NDManager m, NDArray images, List<String> captions) {
        if (images.getShape().get(0) != captions.size()) {
            throw new IllegalArgumentException(images.getShape().get(0) + " images for " + captions.size() + " captions");
        }
        NonEmpty.require(captions.size(), "ClipScores.clipScore", "pass at least one image with its caption");
        float[][] img = embedImages(clip, m, images, 500);
        float[][] txt = embedTexts(clip, m, captions);
        double[] out = new double[img.length];
        for (int i = 0; i < img.length; i++) for (int k = 0; k < img[i].length; k++) out[i] += img[i][k] * txt[i][k];
        return out;
    }

    /**
     * Caption retrieval: the share of rows of {@code embeddings} (N, E) whose highest dot product with the rows of
     * {@code texts} (N, E, the embeddings of {@code captions}) is with their own caption or an identical one.
     */
    public static double ownCaptionTop1(NDArray embeddings, NDArray texts, List<String> captions) {
        NonEmpty.require(embeddings.getShape().get(0), "ClipScores.ownCaptionTop1", "pass at least one embedding with its caption");
        if (embeddings.getShape().get(0) != captions.size() || texts.getShape().get(0) != captions.size()) {
            throw new IllegalArgumentException(embeddings.getShape().get(0) + " embeddings and " + texts.getShape().get(0)
                    + " text embeddings for " + captions.size() + " captions: give one of each per caption");
        }
        long[] best = embeddings.matMul(texts.transpose()).argMax(1).toLongArray();
        int right = 0;
        for (int i = 0; i < best.length; i++) if (captions.get((int) best[i]).equals(captions.get(i))) right++;
        return right / (double) best.length;
    }
}
