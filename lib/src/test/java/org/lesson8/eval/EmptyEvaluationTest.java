package org.lesson8.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.lesson8.NdTest;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Classifier;
import org.lesson8.models.Vae;
import org.lesson8.models.Vit;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** An evaluation of 0 images refuses with a message instead of returning NaN as if it were a figure. */
class EmptyEvaluationTest extends NdTest {
    private static void refused(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains("0 images to evaluate"), e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }

    @Test
    void classifierAndJudgeAccuracyOfNoImagesIsRefused() {
        Classifier constant = x -> x.getManager().zeros(new Shape(x.getShape().get(0), 10));
        FashionMnist.Split none = FashionMnist.test().subset(new int[0]);
        refused(() -> ClassifierEval.evaluate(constant, m, FashionMnist.test(), 0), "ClassifierEval.evaluate", "limit 0");
        refused(() -> ClassifierEval.evaluate(constant, m, none, 100), "ClassifierEval.evaluate");
        FashionMnist.Split one = FashionMnist.test().subset(new int[] {0});
        assertEquals(one.label(0) == 0 ? 1.0 : 0.0, ClassifierEval.evaluate(constant, m, one, 5).accuracy(), "one image: a figure");
        refused(() -> new ClassJudge.Judged(new double[0][], new int[0]).accuracy(new int[0]), "ClassJudge accuracy");
        try (NDManager sub = m.newSubManager()) {
            Vit vit = new Vit(sub, Vit.fashionSmall(), 0);
            refused(() -> new ClassJudge(vit).judge(sub, sub.zeros(new Shape(0, 1, 28, 28))), "ClassJudge.judge");
            refused(() -> Reconstruction.vaeMse(new Vae(sub, Vae.fashion(), 0), sub, FashionMnist.test(), 0), "Reconstruction.vaeMse");
        }
    }

    @Test
    void captionAccuracyRetrievalAndProbesOfNothingAreRefused() {
        refused(() -> CaptionJudging.accuracy(List.of(), new int[0][], List.of()), "caption accuracy");
        try (NDManager sub = m.newSubManager()) {
            refused(() -> ClipScores.ownCaptionTop1(sub.zeros(new Shape(0, 4)), sub.zeros(new Shape(0, 4)), List.of()),
                    "ClipScores.ownCaptionTop1");
        }
        float[][] train = {{0f, 1f}, {1f, 0f}};
        refused(() -> LinearProbe.fit(m, train, new int[] {0, 1}, new float[0][], new int[0], 2, 5, 0), "LinearProbe.fit (test");
        refused(() -> LinearProbe.fit(m, new float[0][], new int[0], train, new int[] {0, 1}, 2, 5, 0), "LinearProbe.fit (training");
    }
}
