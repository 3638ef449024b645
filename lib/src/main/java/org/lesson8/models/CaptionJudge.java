package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import org.lesson8.nn.Conv2d;
import org.lesson8.nn.ImageInput;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The caption judge: a small CNN that reads a scene image back into its attributes, one softmax head per attribute
 * (number of objects; first object's colour and shape; second object's colour and shape; axis of the relation; size
 * and position of a single object). It is the <b>measuring instrument</b> of the text-to-image notebooks, not a model
 * under test: it is trained on every combination, the held-out ones included, so that it can tell whether a
 * generated image shows what its caption asks for, as an Inception network does for the Inception score and FID;
 * its feature is where Fréchet distances of scenes are measured.
 * <pre>
 *   image (B, 3, S, S) → conv3×3(w) → ReLU → conv3×3(w) → ReLU → maxpool 2
 *                      → conv3×3(2w) → ReLU → maxpool 2 → conv3×3(2w) → ReLU
 *                      → flatten → Linear(hidden) → ReLU = feature (B, hidden)
 *                      → Linear(Σ classes), split into logits (B, classes of the head) per head
 * </pre>
 * The loss sums, per image, the cross-entropies of the heads that apply to it (a label of −1 marks a head that does
 * not: the second object of a one-object scene, the size of a two-object one) and averages over the batch.
 * <p>Known differences from {@link SmallCnn}, whose layout it follows (no paper prescribes a judge): RGB input; two
 * more convolutions, one at full resolution before the first pooling (small shapes are only ~8 pixels wide) and one on
 * the 7×7 grid; the feature is the flattened grid, not a global pool, so that where an object lies survives to the
 * fully connected layer; several heads instead of one.
 */
public class CaptionJudge extends Module {
    /** One attribute read from the image: its name and its number of classes. */
    public record Head(String name, int classes) {}

    /** A judge configuration: image size and channels, conv width w (2w in the second stage), feature width, heads. */
    public record Config(String name, int imageSize, int channels, int width, int hidden, List<Head> heads) {
        public Config {
            if (imageSize % 4 != 0) {
                throw new IllegalArgumentException("the judge pools twice by 2, so the image size must be a multiple of 4, got " + imageSize);
            }
            heads = List.copyOf(heads);
        }

        /** The number of classes of each head, in order. */
        public List<Integer> classes() {
            return heads.stream().map(Head::classes).toList();
        }

        public int outputs() {
            return heads.stream().mapToInt(Head::classes).sum();
        }

        /** Parameters computed from the configuration alone (nothing allocated). */
        public long parameterCount() {
            long w = width, g = imageSize / 4;
            long convs = (channels * 9 * w + w) + (w * 9 * w + w) + (w * 9 * 2 * w + 2 * w) + (2 * w * 9 * 2 * w + 2 * w);
            return convs + (2 * w * g * g * hidden + hidden) + ((long) hidden * outputs() + outputs());
        }
    }

    /**
     * The judge of the captioned scenes (28×28 RGB): heads objects (1 or 2), colour1 (6), shape1 (4), colour2 (6),
     * shape2 (4), axis (2), size (2), position (5), in the order of the data set's attribute labels.
     */
    public static Config scenes() {
        return new Config("caption judge (scenes 28×28)", 28, 3, 32, 128, List.of(new Head("objects", 2),
                new Head("colour1", 6), new Head("shape1", 4), new Head("colour2", 6), new Head("shape2", 4),
                new Head("axis", 2), new Head("size", 2), new Head("position", 5)));
    }

    /** Forward result: logits per head, in the order of {@link Config#heads()}, and the feature (B, hidden). */
    public record Output(List<NDArray> logits, NDArray feature) {
        /** The arg-max class of every head, (B, heads). */
        public int[][] predictions() {
            int b = (int) feature.getShape().get(0);
            int[][] out = new int[b][logits.size()];
            for (int h = 0; h < logits.size(); h++) {
                long[] p = logits.get(h).argMax(1).toLongArray();
                for (int i = 0; i < b; i++) out[i][h] = (int) p[i];
            }
            return out;
        }
    }

    public final Config config;
    public final Conv2d conv1, conv2, conv3, conv4;
    public final Linear fc, heads;

    public CaptionJudge(NDManager m, Config c, long seed) {
        super(m);
        this.config = c;
        Random rng = new Random(seed);
        int w = c.width();
        conv1 = child("conv1", new Conv2d(m, rng, c.channels(), w, 3, 1, 1));
        conv2 = child("conv2", new Conv2d(m, rng, w, w, 3, 1, 1));
        conv3 = child("conv3", new Conv2d(m, rng, w, 2 * w, 3, 1, 1));
        conv4 = child("conv4", new Conv2d(m, rng, 2 * w, 2 * w, 3, 1, 1));
        int g = c.imageSize() / 4;
        fc = child("fc", new Linear(m, rng, 2 * w * g * g, c.hidden()));
        heads = child("heads", new Linear(m, rng, c.hidden(), c.outputs()));
    }

    public Output forward(NDArray images) {
        ImageInput.require(images, "the caption judge", config.channels(), false, config.imageSize());
        Shape s = images.getShape();
        NDArray h = Activation.relu(conv2.forward(Activation.relu(conv1.forward(images))));
        h = Activation.relu(conv3.forward(pool(h)));
        h = Activation.relu(conv4.forward(pool(h)));
        NDArray feature = Activation.relu(fc.forward(h.reshape(s.get(0), -1)));
        NDArray all = heads.forward(feature);
        List<NDArray> logits = new ArrayList<>();
        int from = 0;
        for (Head head : config.heads()) {
            logits.add(all.get(":, {}:{}", from, from + head.classes()));
            from += head.classes();
        }
        return new Output(logits, feature);
    }

    /**
     * Per image, the sum of the cross-entropies of the heads that apply; averaged over the batch. {@code labels} is
     * (B, heads) of class indices, −1 where a head does not apply to the image.
     */
    public NDArray loss(Output out, NDArray labels) {
        int b = (int) out.feature().getShape().get(0), k = config.heads().size();
        if (!labels.getShape().equals(new Shape(b, k))) {
            throw new IllegalArgumentException("the judge's loss needs labels (batch, heads) = (" + b + ", " + k + "), got " + labels.getShape());
        }
        int[] y = labels.toType(DataType.INT32, false).toIntArray();
        NDManager m = out.feature().getManager();
        NDArray total = null;
        for (int h = 0; h < k; h++) {
            int[] target = new int[b];
            float[] applies = new float[b];
            for (int i = 0; i < b; i++) {
                int v = y[i * k + h];
                if (v >= config.heads().get(h).classes()) {
                    throw new IllegalArgumentException("label " + v + " of head " + config.heads().get(h).name() + " is outside 0.."
                            + (config.heads().get(h).classes() - 1) + " (−1 marks a head that does not apply)");
                }
                target[i] = Math.max(v, 0);
                applies[i] = v >= 0 ? 1f : 0f;
            }
            NDArray logits = out.logits().get(h);
            NDArray nll = logits.logSoftmax(1).mul(m.create(target).oneHot(config.heads().get(h).classes())).sum(new int[] {1}).neg();
            NDArray masked = nll.mul(m.create(applies));
            total = total == null ? masked : total.add(masked);
        }
        return total.mean();
    }

    private static NDArray pool(NDArray x) {
        return Pool.maxPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
    }
}
