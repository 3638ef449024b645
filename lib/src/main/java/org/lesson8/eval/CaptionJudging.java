package org.lesson8.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.lesson8.course.Course;
import org.lesson8.course.Interruption;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.SceneAttributes;
import org.lesson8.data.SceneCaptions;
import org.lesson8.models.CaptionJudge;
import org.lesson8.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a scene image shows what its caption says, decided by the {@link CaptionJudge}: the judge reads the image
 * into {@link SceneAttributes}, the caption is parsed into attributes by {@link SceneCaptions#parse}, and the caption
 * is correct when the two agree. A two-object caption is correct when both objects' colour and shape and the relation
 * agree, in either phrasing ("A to the left of B" = "B to the right of A"); a one-object caption when colour, shape,
 * size and position agree. The judge was trained on all combinations, held-out ones included: it measures, it is not
 * measured.
 */
public final class CaptionJudging {
    /** The judge's reading of N images: attributes, raw head predictions (N, heads) and features (N, hidden). */
    public record Judged(List<SceneAttributes> attributes, int[][] heads, double[][] features) {}

    /** Caption-level accuracy (overall, one-object, two-object scenes) and the accuracy of each attribute where it applies. */
    public record Accuracy(int scenes, double caption, double oneObjectCaption, double twoObjectCaption,
                           Map<String, Double> perAttribute) {}

    /** The shipped judge's file under the project's data/checkpoints. */
    public static final String CHECKPOINT = "caption_judge.safetensors";

    /** Images per forward pass when judging. */
    private static final int CHUNK = 500;

    private final CaptionJudge judge;

    public CaptionJudging(CaptionJudge judge) {
        SceneAttributes.requireHeads(judge.config.classes(), "this judge");
        this.judge = judge;
    }

    /** The shipped judge (data/checkpoints/caption_judge.safetensors, made by {@code ./course train judge}), in {@code m}. */
    public static CaptionJudging shipped(NDManager m) throws IOException {
        return load(m, Course.checkpoint(CHECKPOINT));
    }

    public static CaptionJudging load(NDManager m, Path file) throws IOException {
        CaptionJudge judge = new CaptionJudge(m, CaptionJudge.scenes(), 0);
        Checkpoint.load(judge, file);
        return new CaptionJudging(judge);
    }

    public CaptionJudge judge() {
        return judge;
    }

    /** Reads images (N, 3, 28, 28) in [0, 1] into attributes, without gradients. */
    public Judged judge(NDManager parent, NDArray images) {
        int n = (int) images.getShape().get(0);
        NonEmpty.require(n, "CaptionJudging.judge", "pass a batch (N, 3, 28, 28) with N ≥ 1");
        int[][] heads = new int[n][];
        double[][] features = new double[n][];
        for (int start = 0; start < n; start += CHUNK) {
            Interruption.check("judging captions", start, n, () -> "no result was returned");
            int end = Math.min(n, start + CHUNK);
            try (NDManager sub = parent.newSubManager(); NDScope scope = new NDScope()) {
                CaptionJudge.Output out = judge.forward(images.get("{}:{}", start, end));
                int[][] p = out.predictions();
                float[] f = out.feature().toFloatArray();
                int d = (int) out.feature().getShape().get(1);
                for (int i = 0; i < end - start; i++) {
                    heads[start + i] = p[i];
                    double[] row = new double[d];
                    for (int j = 0; j < d; j++) row[j] = f[i * d + j];
                    features[start + i] = row;
                }
            }
        }
        List<SceneAttributes> attributes = new ArrayList<>(n);
        for (int[] h : heads) attributes.add(SceneAttributes.fromLabels(h));
        return new Judged(attributes, heads, features);
    }

    /** Whether each image shows its caption; captions that the grammar refuses throw with the parser's message. */
    public boolean[] captionCorrect(NDManager m, NDArray images, List<String> captions) {
        if (captions.size() != images.getShape().get(0)) {
            throw new IllegalArgumentException(captions.size() + " captions for " + images.getShape().get(0) + " images");
        }
        List<SceneAttributes> seen = judge(m, images).attributes();
        boolean[] out = new boolean[captions.size()];
        for (int i = 0; i < out.length; i++) out[i] = captionCorrect(seen.get(i), captions.get(i));
        return out;
    }

    /** Whether a caption describes attributes the judge read from an image. */
    public static boolean captionCorrect(SceneAttributes seen, String caption) {
        return SceneCaptions.parse(caption).equals(seen);
    }

    /** Judges real scenes against their own (randomly phrased) captions and ground truth. */
    public Accuracy measure(NDManager m, List<CaptionedScenes.Scene> scenes) {
        try (NDManager sub = m.newSubManager()) {
            Judged j = judge(sub, CaptionedScenes.images(sub, scenes));
            return accuracy(scenes.stream().map(CaptionedScenes.Scene::attributes).toList(), j.heads(),
                    scenes.stream().map(CaptionedScenes.Scene::caption).toList());
        }
    }

    /**
     * The arithmetic of {@link #measure}: per attribute, the share of scenes whose head prediction equals the truth,
     * among the scenes the attribute applies to; per caption, the share judged correct by {@link #captionCorrect}.
     */
    public static Accuracy accuracy(List<SceneAttributes> truth, int[][] heads, List<String> captions) {
        int n = truth.size();
        NonEmpty.require(n, "caption accuracy", "pass at least one scene");
        if (heads.length != n || captions.size() != n) {
            throw new IllegalArgumentException(n + " scenes, " + heads.length + " predictions and " + captions.size() + " captions");
        }
        int k = SceneAttributes.NAMES.size();
        int[] right = new int[k], applicable = new int[k];
        int[] captionRight = new int[3], count = new int[3];
        for (int i = 0; i < n; i++) {
            int[] t = truth.get(i).labels();
            for (int h = 0; h < k; h++) {
                if (t[h] < 0) continue;
                applicable[h]++;
                if (heads[i][h] == t[h]) right[h]++;
            }
            boolean ok = captionCorrect(SceneAttributes.fromLabels(heads[i]), captions.get(i));
            for (int g : new int[] {0, truth.get(i).objects()}) {
                count[g]++;
                if (ok) captionRight[g]++;
            }
        }
        Map<String, Double> per = new LinkedHashMap<>();
        for (int h = 0; h < k; h++) per.put(SceneAttributes.NAMES.get(h), applicable[h] == 0 ? Double.NaN : right[h] / (double) applicable[h]);
        return new Accuracy(n, share(captionRight[0], count[0]), share(captionRight[1], count[1]), share(captionRight[2], count[2]), per);
    }

    private static double share(int right, int of) {
        return of == 0 ? Double.NaN : right / (double) of;
    }
}
