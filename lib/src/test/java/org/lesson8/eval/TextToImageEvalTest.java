package org.lesson8.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.SceneAttributes;
import org.lesson8.data.SceneCaptions;
import org.lesson8.data.Tokenizer;
import org.lesson8.eval.PromptSet.Group;
import org.lesson8.eval.PromptSet.Prompt;
import org.lesson8.eval.TextToImageEval.Judgement;
import org.lesson8.models.CaptionJudge;
import org.lesson8.models.Clip;
import org.lesson8.models.Vit;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TextToImageEvalTest extends NdTest {
    /** Untrained judges: deterministic feature functions, enough for the arithmetic (their accuracy is near chance). */
    private static TextToImageEval.Judges untrainedJudges() {
        return new TextToImageEval.Judges(new CaptionJudging(new CaptionJudge(m, CaptionJudge.scenes(), 1)),
                new ClassJudge(new Vit(m, Vit.fashionTiny(), 1)), null);
    }

    @Test
    void promptSetIsDeterministicWithDistinctPromptsAndTheSmallSetIsAPrefixOfTheFullOne() {
        assertEquals(PromptSet.small().prompts(), PromptSet.small().prompts());
        assertEquals(PromptSet.full().prompts(), PromptSet.full().prompts());
        PromptSet small = PromptSet.small(), full = PromptSet.full();
        assertEquals(List.of(Group.values()), full.groups());
        for (Group g : Group.values()) {
            assertEquals(g == Group.FASHION ? 10 : 8, full.group(g).size(), g.label);
            assertEquals(g == Group.FASHION ? 5 : 4, small.group(g).size(), g.label);
            if (g.scenes()) assertEquals(full.group(g).subList(0, 4), small.group(g), g.label);
        }
        assertEquals(full.prompts().size(), new HashSet<>(full.prompts().stream().map(Prompt::caption).toList()).size());
    }

    @Test
    void scenePromptsParseBackToTheirGroundTruthAndFashionPromptsNameTheirClass() {
        for (Prompt p : PromptSet.full().prompts()) {
            if (p.group().scenes()) {
                assertEquals(p.scene(), SceneCaptions.parse(p.caption()), p.caption());
                assertEquals(-1, p.fashionClass());
            } else {
                assertEquals(FashionCaptions.prompt(p.fashionClass()), p.caption());
                assertNull(p.scene());
            }
            assertEquals(p, PromptSet.prompt(p.caption()), "prompt() puts a caption in the group it was drawn for");
        }
        var e = assertThrows(IllegalArgumentException.class, () -> PromptSet.prompt("a photo of a sneaker"));
        assertTrue(e.getMessage().contains("photo") && e.getMessage().contains("a photo of a sneaker."), e.getMessage());
    }

    @Test
    void heldOutGroupsHoldOnlyHeldOutCombinationsAndSeenGroupsNone() {
        for (Prompt p : PromptSet.full().prompts()) {
            if (!p.group().scenes()) continue;
            boolean heldOut = p.group() == Group.ONE_HELD_OUT || p.group() == Group.TWO_HELD_OUT;
            int objects = p.group() == Group.ONE_SEEN || p.group() == Group.ONE_HELD_OUT ? 1 : 2;
            assertEquals(heldOut, CaptionedScenes.isHeldOut(p.scene()), p.group().label + ": " + p.caption());
            assertEquals(objects, p.scene().objects(), p.caption());
        }
    }

    @Test
    void captionAndAttributeAccuracyFromHandMadeJudgements() {
        List<Prompt> ps = List.of(PromptSet.prompt("a small red circle on the left."), PromptSet.prompt("a large blue square at the top."));
        SceneAttributes a = ps.get(0).scene(), b = ps.get(1).scene();
        SceneAttributes wrongColour = SceneAttributes.one(2, a.shape1(), a.size(), a.position());
        SceneAttributes wrongPosition = SceneAttributes.one(b.colour1(), b.shape1(), b.size(), 4);
        List<SceneAttributes> judged = List.of(a, wrongColour, b, wrongPosition);
        int[][] heads = judged.stream().map(SceneAttributes::labels).toArray(int[][]::new);
        double[][] f = {{0, 0}, {1, 1}, {2, 2}, {3, 4}};
        var measured = TextToImageEval.score(Group.ONE_SEEN, ps, 2, new Judgement(judged, heads, null, f), f, new double[] {0.1, 0.2, 0.3, 0.6},
                2.0, null);
        TextToImageReport.Row row = measured.row("hand-made");
        assertEquals(0.5, row.captionAccuracy(), 1e-12);
        assertEquals(0.75, row.attributeAccuracy().get("colour1"), 1e-12);
        assertEquals(0.75, row.attributeAccuracy().get("position"), 1e-12);
        assertEquals(1.0, row.attributeAccuracy().get("shape1"), 1e-12);
        assertTrue(Double.isNaN(row.attributeAccuracy().get("colour2")), "no one-object image has a second colour");
        assertEquals(0.3, row.clipScore(), 1e-12);
        assertEquals(2.0, row.imagesPerSecond(), 1e-12);
        assertEquals(1.0, row.diversity(), 1e-12, "features compared with themselves");
        assertEquals(0.0, row.frechet(), 1e-9, "the Fréchet distance of a set to itself");

        List<Prompt> fashion = List.of(PromptSet.prompt(FashionCaptions.prompt(7)), PromptSet.prompt(FashionCaptions.prompt(9)));
        var classes = TextToImageEval.score(Group.FASHION, fashion, 2, new Judgement(null, null, new int[] {7, 5, 9, 9}, f), f, null, 1.0, null);
        assertEquals(0.75, classes.row("hand-made").captionAccuracy(), 1e-12);
        assertTrue(Double.isNaN(classes.row("hand-made").clipScore()), "no CLIP, no CLIP score");
    }

    @Test
    void diversityIsZeroForRepeatedImagesAndScalesWithTheSpread() {
        double[][] real = {{0, 0}, {2, 0}, {5, 5}, {5, 7}};
        double[][] repeated = {{1, 1}, {1, 1}, {4, 4}, {4, 4}};
        double[][] doubled = {{0, 0}, {4, 0}, {5, 5}, {5, 9}};
        int[] prompt = {0, 0, 1, 1};
        assertEquals(0.0, TextToImageEval.diversity(repeated, real, prompt, 2), 1e-12);
        assertEquals(2.0, TextToImageEval.diversity(doubled, real, prompt, 2), 1e-12);
    }

    @Test
    void referenceRowsThroughTheSameEvaluation() {
        TextToImageEval.Judges judges = untrainedJudges();
        PromptSet prompts = PromptSet.small();
        TextToImageReport replay = TextToImageEval.evaluate("replay", (mm, captions, seed) -> replayReferences(mm, captions, 3), prompts, 3, 0, judges);
        TextToImageReport real = TextToImageEval.evaluate("real", TextToImageEval.real(), prompts, 3, 0, judges);
        TextToImageReport mean = TextToImageEval.evaluate("mean image", TextToImageEval.meanImage(3), prompts, 3, 0, judges);
        for (Group g : prompts.groups()) {
            assertEquals(1.0, replay.row(g).diversity(), 1e-9, "the reference images themselves: " + g.label);
            assertEquals(0.0, replay.row(g).frechet(), 1e-6, "the reference images themselves: " + g.label);
            assertEquals(1.0, real.row(g).diversity(), 0.2, "other real images vary as much: " + g.label);
            assertTrue(real.row(g).frechet() > 0, "other real images are not the reference images: " + g.label);
            assertEquals(0.0, mean.row(g).diversity(), 1e-6, "one image per prompt: " + g.label);
            assertTrue(real.row(g).imagesPerSecond() > 0);
        }
        assertEquals(prompts.prompts().size() * 3, real.overall().images());
        assertTrue(real.overall().imagesPerSecond() > 0);
        assertTrue(Double.isNaN(real.overall().frechet()), "distances in two feature spaces are not pooled");
        BufferedImage grid = real.grid(Group.FASHION);
        assertEquals(210 + 3 * (56 + 4) + 4, grid.getWidth(), "a caption column and 3 samples zoomed 2x");
        assertEquals(22 + prompts.group(Group.FASHION).size() * (56 + 4) + 4, grid.getHeight(), "a title and one row per prompt");

        Table t = TextToImageReport.combine(List.of(real, mean, replay));
        assertEquals(TextToImageReport.COLUMNS, t.columnNames());
        assertEquals(3 * (prompts.groups().size() + 1), t.rowCount());
        assertEquals(List.of("real", "mean image", "replay"), t.stringColumn("generator").asList().subList(0, 3));
        assertEquals(List.of(Group.ONE_SEEN.label, Group.ONE_SEEN.label, Group.ONE_SEEN.label, Group.ONE_HELD_OUT.label),
                t.stringColumn("group").asList().subList(0, 4));
        assertEquals(TextToImageReport.OVERALL, t.stringColumn("group").get(t.rowCount() - 1));
        var e = assertThrows(IllegalArgumentException.class, () -> TextToImageReport.combine(List.of(real, real)));
        assertTrue(e.getMessage().contains("both called 'real'"), e.getMessage());
    }

    /** Reference draws 0 .. k − 1 of each caption's ground truth, in order (what the evaluation compares with). */
    private static NDArray replayReferences(NDManager mm, List<String> captions, int k) {
        List<NDArray> out = new ArrayList<>();
        for (int i = 0; i < captions.size(); i += k) out.add(PromptSet.real(mm, PromptSet.prompt(captions.get(i)), 0, k));
        return NDArrays.concat(new NDList(out), 0);
    }

    @Test
    void meanImageIsThePixelMeanOfTheRealImagesItAverages() {
        try (NDManager sub = m.newSubManager()) {
            List<String> captions = List.of("a red circle to the left of a blue square.", FashionCaptions.prompt(3));
            for (String c : captions) {
                NDArray real = TextToImageEval.real().generate(sub, List.of(c, c, c, c), 5);
                NDArray mean = TextToImageEval.meanImage(4).generate(sub, List.of(c, c), 5);
                assertEquals(2, mean.getShape().get(0));
                assertEquals(real.get(0).getShape(), mean.get(1).getShape());
                assertTrue(real.get(0).sub(real.get(1)).abs().max().getFloat() > 0, "the real images of a prompt differ: " + c);
                float[] expected = real.mean(new int[] {0}).toFloatArray(), got = mean.get(1).toFloatArray();
                assertArrayEquals(expected, got, 1e-6f, c);
            }
        }
    }

    @Test
    void realDrawsAvoidTheReferenceImages() {
        try (NDManager sub = m.newSubManager()) {
            Prompt p = PromptSet.prompt(FashionCaptions.prompt(0));
            NDArray reference = PromptSet.real(sub, p, 0, 1);
            for (long seed : new long[] {0, 1, 8}) {
                NDArray drawn = TextToImageEval.real().generate(sub, List.of(p.caption()), seed);
                assertTrue(drawn.sub(reference).abs().max().getFloat() > 0, "seed " + seed);
            }
        }
    }

    @Test
    void wrongOutputsOfAGeneratorAreRefusedWithWhatWasExpected() {
        TextToImageEval.Judges judges = untrainedJudges();
        PromptSet one = PromptSet.of("one", List.of("a small red circle on the left."));
        var fewer = assertThrows(IllegalArgumentException.class, () -> TextToImageEval.evaluate("short",
                (mm, captions, seed) -> mm.zeros(new Shape(captions.size() - 1, 3, 28, 28)), one, 2, 0, judges));
        assertTrue(fewer.getMessage().contains("'short' returned 1 images for the 2 captions"), fewer.getMessage());
        var size = assertThrows(IllegalArgumentException.class, () -> TextToImageEval.evaluate("big",
                (mm, captions, seed) -> mm.zeros(new Shape(captions.size(), 3, 32, 32)), one, 2, 0, judges));
        assertTrue(size.getMessage().contains("(2, 3, 32, 32)") && size.getMessage().contains("needs (2, 3, 28, 28)"), size.getMessage());
        var grey = assertThrows(IllegalArgumentException.class, () -> TextToImageEval.evaluate("grey",
                (mm, captions, seed) -> mm.zeros(new Shape(captions.size(), 1, 28, 28)), one, 2, 0, judges));
        assertTrue(grey.getMessage().contains("one-object seen"), "grey images are accepted for Fashion prompts only: " + grey.getMessage());
        var range = assertThrows(IllegalArgumentException.class, () -> TextToImageEval.evaluate("signed",
                (mm, captions, seed) -> mm.ones(new Shape(captions.size(), 3, 28, 28)).neg(), one, 2, 0, judges));
        assertTrue(range.getMessage().contains("[-1.000, -1.000]") && range.getMessage().contains("(x + 1) / 2"), range.getMessage());
        var once = assertThrows(IllegalArgumentException.class, () -> TextToImageEval.evaluate("one", TextToImageEval.real(), one, 1, 0, judges));
        assertTrue(once.getMessage().contains("at least 2 images per prompt"), once.getMessage());
        var noJudge = assertThrows(IllegalArgumentException.class, () -> TextToImageEval.evaluate("real", TextToImageEval.real(),
                PromptSet.small(), 2, 0, new TextToImageEval.Judges(judges.scenes(), null, null)));
        assertTrue(noJudge.getMessage().contains("Fashion prompts but no ViT judge"), noJudge.getMessage());
    }

    @Test
    void clipScoreIsTheMeanCosineOfTheGeneratedPairs() {
        Tokenizer tok = Tokenizer.textToImage();
        Clip clip = new Clip(m, new Clip.Config("probe", 28, 7, 3, 16, 1, 2, tok.size(), 20, 16, 1, 2, 8), tok, 0);
        PromptSet ps = PromptSet.of("two", List.of("a red circle to the left of a blue square.", FashionCaptions.prompt(4)));
        TextToImageReport r = TextToImageEval.evaluate("real", TextToImageEval.real(), ps, 2, 11, untrainedJudges().withClip(clip));
        try (NDManager sub = m.newSubManager()) {
            for (int k = 0; k < ps.groups().size(); k++) {
                List<String> captions = TextToImageEval.captions(ps.group(ps.groups().get(k)), 2);
                double[] cos = ClipScores.clipScore(clip, sub, TextToImageEval.real().generate(sub, captions, 11 + k), captions);
                assertEquals((cos[0] + cos[1]) / 2, r.row(ps.groups().get(k)).clipScore(), 1e-6, ps.groups().get(k).label);
            }
        }
        double overall = (r.row(Group.TWO_SEEN).clipScore() + r.row(Group.FASHION).clipScore()) / 2;
        assertEquals(overall, r.overall().clipScore(), 1e-9, "equal group sizes: the pooled mean is the mean of the groups");
    }

    @Test
    void greyFashionImagesAndRgbOnesAreBothAccepted() {
        TextToImageEval.Judges judges = untrainedJudges();
        PromptSet fashion = PromptSet.of("fashion", List.of(FashionCaptions.prompt(1), FashionCaptions.prompt(8)));
        TextToImageReport grey = TextToImageEval.evaluate("grey", TextToImageEval.real(), fashion, 2, 3, judges);
        TextToImageReport rgb = TextToImageEval.evaluate("rgb", (mm, captions, seed) -> TextToImageEval.real().generate(mm, captions, seed)
                .repeat(1, 3), fashion, 2, 3, judges);
        assertEquals(grey.row(Group.FASHION).captionAccuracy(), rgb.row(Group.FASHION).captionAccuracy());
        assertEquals(grey.row(Group.FASHION).frechet(), rgb.row(Group.FASHION).frechet(), 1e-5, "the ViT sees the channel mean");
    }
}
