package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.SceneAttributes;
import org.lesson8.models.CaptionJudge;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Supervised training of the {@link CaptionJudge} on the scenes' ground truth. Every step draws fresh scenes of
 * {@link CaptionedScenes.Split#ANY} (all combinations, held-out ones included: the judge is the measuring instrument,
 * not a model under test), so no image is seen twice; step {@code t} uses scenes {@code t·batch .. (t+1)·batch − 1}.
 */
public final class JudgeTraining {
    private JudgeTraining() {}

    /** AdamW 2e-3, weight decay 0.01, warm-up 100 steps, clipping at 1, batches of 128. */
    public static Recipe recipe() {
        return new Recipe(128, 2e-3f, 0.01f, 100, 1f);
    }

    /** Labels (n, heads) of scenes, −1 where an attribute does not apply. */
    public static NDArray labels(NDManager m, List<CaptionedScenes.Scene> scenes) {
        int k = SceneAttributes.NAMES.size();
        int[] v = new int[scenes.size() * k];
        for (int i = 0; i < scenes.size(); i++) System.arraycopy(scenes.get(i).attributes().labels(), 0, v, i * k, k);
        return m.create(v, new Shape(scenes.size(), k));
    }

    /** Trains for {@code steps} steps or until {@code seconds} pass; logs loss and the share of applicable heads right. */
    public static TrainLoop train(CaptionJudge judge, CaptionedScenes scenes, Recipe recipe, int steps, double seconds,
                                  MetricsLog log, IntConsumer onStep) {
        SceneAttributes.requireHeads(judge.config.classes(), "the judge");
        TrainLoop loop = recipe.loop(judge, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            List<CaptionedScenes.Scene> batch = new ArrayList<>(recipe.batch());
            for (int i = 0; i < recipe.batch(); i++) batch.add(scenes.scene(CaptionedScenes.Split.ANY, (long) step * recipe.batch() + i));
            CaptionJudge.Output out = judge.forward(CaptionedScenes.images(sub, batch));
            int[][] predicted = out.predictions();
            int right = 0, applicable = 0;
            for (int i = 0; i < batch.size(); i++) {
                int[] truth = batch.get(i).attributes().labels();
                for (int h = 0; h < truth.length; h++) {
                    if (truth[h] < 0) continue;
                    applicable++;
                    if (predicted[i][h] == truth[h]) right++;
                }
            }
            metrics.put("heads_acc", right / (double) applicable);
            return judge.loss(out, labels(sub, batch));
        }, onStep);
        return loop;
    }
}
