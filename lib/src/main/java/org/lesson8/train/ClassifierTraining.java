package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Classifier;
import org.lesson8.models.Vit;
import org.lesson8.nn.Losses;
import org.lesson8.nn.Module;

import java.util.Random;
import java.util.function.IntConsumer;

/** Supervised training of a {@link Classifier} on Fashion-MNIST (the ViT and the CNN baseline of notebooks 00 and 01). */
public final class ClassifierTraining {
    private ClassifierTraining() {}

    /**
     * How a classifier is trained: {@code recipe} optimises it; {@code augment} shifts each image randomly by up to 2 px;
     * {@code labelSmoothing} is ε of the smoothed cross-entropy (Szegedy et al. 2016), as in the ViT/DeiT training recipes.
     */
    public record Regime(Recipe recipe, boolean augment, float labelSmoothing) {
        public static Regime vit() {
            return new Regime(new Recipe(128, 2e-3f, 0.05f, 200, 1f), true, 0.1f);
        }

        /**
         * A second cosine cycle from a trained checkpoint (a warm restart, Loshchilov &amp; Hutter 2017): same data
         * augmentation and regularisation, half the peak learning rate.
         */
        public static Regime vitWarmRestart() {
            return new Regime(new Recipe(128, 1e-3f, 0.05f, 200, 1f), true, 0.1f);
        }

        /**
         * A short cycle from a trained checkpoint without the random shifts and at a low peak learning rate: the
         * augmented model under-fits (train accuracy under augmentation ≈ test accuracy), so these steps fit the
         * unshifted images the test set looks like.
         */
        public static Regime vitNoAugmentation() {
            return new Regime(new Recipe(128, 3e-4f, 0.05f, 200, 1f), false, 0.1f);
        }

        /** For live runs of a few epochs: no augmentation (it pays off only over many epochs). */
        public static Regime vitShort() {
            return new Regime(new Recipe(128, 2e-3f, 0.05f, 200, 1f), false, 0.1f);
        }

        public static Regime cnn() {
            return new Regime(new Recipe(128, 2e-3f, 0.01f, 100, 1f), true, 0f);
        }

        public int batch() {
            return recipe.batch();
        }
    }

    /**
     * Trains for {@code epochsOrSteps}: steps = the given number; stops early when {@code seconds} pass.
     * @return the training loop (its log has loss and batch accuracy per step)
     */
    public static TrainLoop train(Module model, FashionMnist.Split train, Regime r, int steps, double seconds,
                                  long seed, MetricsLog log, IntConsumer onStep) {
        if (!(model instanceof Classifier clf)) {
            throw new IllegalArgumentException(model.getClass().getSimpleName() + " is not a Classifier (it has no logits(images))");
        }
        Random rng = new Random(seed);
        TrainLoop loop = r.recipe().loop(model, steps, log);
        Batches.Shuffled batches = new Batches.Shuffled(train.size, rng);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            int[] idx = batches.next(r.batch());
            NDArray x = train.augmented(sub, idx, r.augment() ? 2 : 0, false, rng);
            NDArray y = train.labels(sub, idx);
            NDArray logits = clf.logits(x);
            metrics.put("train_acc", Vit.correct(logits, y) / (double) idx.length);
            return Losses.crossEntropy(logits, y, r.labelSmoothing());
        }, onStep);
        return loop;
    }
}
