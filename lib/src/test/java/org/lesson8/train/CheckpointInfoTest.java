package org.lesson8.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.course.Course;
import org.lesson8.models.Glide;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointInfoTest {
    private static Path shipped(String name) {
        return Course.home().resolve("data").resolve("checkpoints").resolve(name);
    }

    /** Written and read back, an info is the same; written again, the text is the same. */
    private static <T extends CheckpointInfo.Info> T roundTrip(T info, Class<T> type) {
        String json = CheckpointInfo.toJson(info);
        T back = CheckpointInfo.fromJson(json, type);
        assertEquals(json, CheckpointInfo.toJson(back));
        return back;
    }

    @Test
    void readsTheShippedVitChainWithItsSoup() throws IOException {
        CheckpointInfo.Vit v = CheckpointInfo.read(shipped("vit_fashion.json"), CheckpointInfo.Vit.class);
        assertEquals(305034, v.parameters());
        assertEquals(List.of(42L, 43L, 44L, 45L), v.seedPerCycle());
        assertEquals(60000, v.steps());
        assertEquals(18052, v.trainSeconds());
        assertEquals(0.9144, v.testAccuracy());
        assertTrue(v.command().startsWith("./course train vit 18000 && ./course train vitMore 12000"), v.command());
        assertEquals(new CheckpointInfo.Vit.Ingredient("vitPolish", 3000, 46, 0.9128), v.soupIngredients().get(1));
        assertEquals(v, roundTrip(v, CheckpointInfo.Vit.class));
    }

    @Test
    void readsTheShippedClip() throws IOException {
        CheckpointInfo.Clip c = CheckpointInfo.read(shipped("clip.json"), CheckpointInfo.Clip.class);
        assertEquals(258241, c.parameters());
        assertEquals(2500, c.steps());
        assertEquals(256, c.batch());
        assertEquals(25.714, c.finalScale());
        assertEquals(0.8520, c.zeroShotAccuracy());
        assertEquals(0.9110, c.heldoutImageToTextTop1());
        assertEquals(0.0417, c.heldoutImageToTextChance());
        assertEquals(1.0, c.seenTextToImageTop1());
        assertEquals("./course train clip 2500", c.command());
        assertEquals(c, roundTrip(c, CheckpointInfo.Clip.class));
    }

    @Test
    void readsTheShippedImageGptWithItsPaletteAndNestedFigures() throws IOException {
        CheckpointInfo.ImageGpt g = CheckpointInfo.read(shipped("image_gpt.json"), CheckpointInfo.ImageGpt.class);
        assertEquals(8, g.palette().length);
        assertEquals(0.002875f, g.palette()[0][0]);
        assertEquals(0.888962f, g.palette()[7][0]);
        assertEquals(0.7731, g.testBitsPerDim());
        assertEquals(5033, g.steps());
        assertEquals(0.7123, g.probe().bertTestAccuracy());
        assertEquals(0.8113, g.bert().finalMaskedBitsPerDim());
        assertEquals(0.735, g.completionsVit().completionLabelAgreement());
        assertNull(g.completionsVit().command());   // measured by the training run itself
        assertEquals(4.634, g.samplingBenchmark().batch16UncachedS());
        assertTrue(g.samplingBenchmark().identical());
        assertEquals("Recipe[batch=32, lr=0.002, weightDecay=0.01, warmup=100, clip=1.0] && continuation Recipe[lr=0.001]", g.recipe());
        assertEquals("./course train imageGpt 1500 1500 1000 && ./course train imageGptMore 4000", g.command());
        roundTrip(g, CheckpointInfo.ImageGpt.class);
    }

    @Test
    void judgingReplacesOnlyTheCompletionsOfImageGpt() throws IOException {
        CheckpointInfo.ImageGpt g = CheckpointInfo.read(shipped("image_gpt.json"), CheckpointInfo.ImageGpt.class);
        var c = new CheckpointInfo.ImageGpt.Completions(200, 0.5, 0.8, "./course train imageGpt judge");
        CheckpointInfo.ImageGpt judged = g.withCompletions(c);
        assertEquals(c, judged.completionsVit());
        assertEquals(CheckpointInfo.toJson(g), CheckpointInfo.toJson(judged.withCompletions(g.completionsVit())));
    }

    @Test
    void readsTheShippedVaeAndDit() throws IOException {
        CheckpointInfo.Vae v = CheckpointInfo.read(shipped("vae.json"), CheckpointInfo.Vae.class);
        assertNull(v.trainSeconds(), "re-measured without training");
        assertEquals(0.02506, v.testMsePerPixel());
        assertEquals(0.29821, v.latentScale());
        assertEquals(v, roundTrip(v, CheckpointInfo.Vae.class));
        assertFalse(CheckpointInfo.toJson(v).contains("train_seconds"), "a null component is left out");
        CheckpointInfo.Dit d = CheckpointInfo.read(shipped("dit.json"), CheckpointInfo.Dit.class);
        assertEquals(1058888, d.parameters());
        assertEquals(6136, d.trainSeconds());
        assertEquals(0.05584, d.finalMse());
        assertEquals(0.999, d.emaDecay());
        assertEquals(5e-4f, d.lr());
        assertEquals(d, roundTrip(d, CheckpointInfo.Dit.class));
    }

    @Test
    void readsTheShippedDvaeAndDallEWithTheirNestedFigures() throws IOException {
        CheckpointInfo.Dvae v = CheckpointInfo.read(shipped("dvae.json"), CheckpointInfo.Dvae.class);
        assertEquals(1000, v.testScenes().images());
        assertTrue(v.testFashion().perplexity() > 1 && v.testFashion().deadCodes() < 256, v.testFashion().toString());
        assertTrue(v.command().startsWith("./course train dvae "), v.command());
        assertEquals(v, roundTrip(v, CheckpointInfo.Dvae.class));
        CheckpointInfo.DallE d = CheckpointInfo.read(shipped("dalle.json"), CheckpointInfo.DallE.class);
        assertEquals("dvae.safetensors", d.dvae());
        assertEquals(1000, d.heldOutScenes().pairs());
        assertTrue(d.testScenes().image() > 0 && d.testScenes().image() < Math.log(256), d.testScenes().toString());
        assertEquals(d, roundTrip(d, CheckpointInfo.DallE.class));
    }

    @Test
    void readsTheShippedGlideCheckpointsWithTheirNestedFigures() throws IOException {
        CheckpointInfo.Glide g = CheckpointInfo.read(shipped("glide.json"), CheckpointInfo.Glide.class);
        assertEquals(List.of(0.0, 1.0, 3.0), g.samples().stream().map(CheckpointInfo.Glide.Samples::guidance).toList());
        for (CheckpointInfo.Glide.Samples s : g.samples()) {
            assertTrue(s.oneObjectSeenCaptionCorrect() >= 0 && s.oneObjectSeenCaptionCorrect() <= 1, s.toString());
            assertEquals(40, s.scenes());
        }
        assertTrue(g.command().startsWith("./course train glide "), g.command());
        assertEquals(g, roundTrip(g, CheckpointInfo.Glide.class));
        CheckpointInfo.NoisedClip c = CheckpointInfo.read(shipped("noised_clip.json"), CheckpointInfo.NoisedClip.class);
        assertEquals("clip_scenes.safetensors", c.startedFrom());
        assertFalse(c.retrieval().isEmpty());
        assertEquals(c, roundTrip(c, CheckpointInfo.NoisedClip.class));
        CheckpointInfo.GlideInpaint i = CheckpointInfo.read(shipped("glide_inpaint.json"), CheckpointInfo.GlideInpaint.class);
        assertEquals("glide_p2.safetensors", i.startedFrom());
        assertEquals(0.0, i.edits().maxChangeOutsideMask(), "the known region is kept exactly");
        assertEquals(i, roundTrip(i, CheckpointInfo.GlideInpaint.class));
        CheckpointInfo.GlideFine f = CheckpointInfo.read(shipped("glide_p2.json"), CheckpointInfo.GlideFine.class);
        assertTrue(f.startedFrom().startsWith("glide.safetensors (" + g.steps() + " steps: "), f.startedFrom());
        assertEquals(Glide.coursePatch2().parameterCount(), f.parameters());
        assertEquals(3.0, f.startSamples().guidance());
        assertEquals(Arrays.stream(org.lesson8.tools.TrainGlide.PATCH2_SCALES).boxed().toList(),
                f.samples().stream().map(CheckpointInfo.GlideFine.Samples::guidance).toList(), "the whole sweep, not a snapshot");
        for (CheckpointInfo.GlideFine.Samples s : f.samples()) {
            assertTrue(s.oneObjectSeenShapeCorrect() >= s.oneObjectSeenCaptionCorrect(), "a right caption has the right shape: " + s);
            assertEquals(40, s.scenes());
        }
        assertTrue(f.command().startsWith("./course train glidePatch2 ") && !f.command().contains("snapshot"), f.command());
        assertEquals(f, roundTrip(f, CheckpointInfo.GlideFine.class));
        tech.tablesaw.api.Table sweep = tech.tablesaw.api.Table.read().csv(shipped(org.lesson8.tools.TrainGlide.SWEEP_CSV).toFile());
        java.util.Set<String> generators = new java.util.LinkedHashSet<>(sweep.stringColumn("generator").asList());
        java.util.Set<String> expected = new java.util.LinkedHashSet<>();
        for (double s : org.lesson8.tools.TrainGlide.PATCH2_SCALES) expected.add("GLIDE s=" + s);
        expected.add("real");
        assertEquals(expected, generators, "the sweep of glide_p2-sweep.csv: every scale and the real images");
        assertEquals(generators.size() * (org.lesson8.eval.PromptSet.Group.values().length + 1), sweep.rowCount(), "every group and overall");
        assertTrue(sweep.intColumn("sampling steps").get(0) > 0);
    }

    @Test
    void readsTheShippedUnClipDecoderMadeFromGlideP2WithEveryDecodingSource() throws IOException {
        CheckpointInfo.UnClipDecoder d = CheckpointInfo.read(shipped("unclip_decoder.json"), CheckpointInfo.UnClipDecoder.class);
        assertTrue(d.startedFrom().startsWith("glide_p2.safetensors ("), d.startedFrom());
        assertEquals(org.lesson8.lessons.UnClipLesson.decoderConfig().parameterCount(), d.parameters());
        assertEquals(Arrays.stream(org.lesson8.lessons.UnClipLesson.Source.values()).map(x -> x.label).toList(),
                d.samples().stream().map(CheckpointInfo.UnClipDecoder.Samples::source).toList(), "(0), (a), (b) = unCLIP, (c)");
        for (CheckpointInfo.UnClipDecoder.Samples x : d.samples()) {
            assertEquals(40, x.scenes());
            assertEquals(org.lesson8.tools.TrainGlide.PATCH2_SAMPLING_STEPS, x.samplingSteps(), "sampled as glide_p2.json's figures");
        }
        assertTrue(d.command().startsWith("./course train unclipDecoder ") && !d.command().contains("snapshot"), d.command());
        assertEquals(d, roundTrip(d, CheckpointInfo.UnClipDecoder.class));
    }

    @Test
    void writesSnakeCaseFieldsInRecordOrderAndUnescapedCommands(@TempDir Path dir) throws IOException {
        var p = new CheckpointInfo.DitPartial(500, 9000, 341, "./course train dit 9000 && echo <done>");
        Path f = dir.resolve("dit-partial.json");
        CheckpointInfo.write(f, p);
        assertEquals("{\n  \"steps\": 500,\n  \"of\": 9000,\n  \"seconds\": 341,\n"
                + "  \"command\": \"./course train dit 9000 && echo <done>\"\n}\n", Files.readString(f));
        assertEquals(p, CheckpointInfo.read(f, CheckpointInfo.DitPartial.class));
    }

    @Test
    void refusesAFileThatIsMissingOrDescribesNoCheckpoint(@TempDir Path dir) throws IOException {
        IOException missing = assertThrows(IOException.class, () -> CheckpointInfo.read(dir.resolve("x.json"), CheckpointInfo.Vae.class));
        assertTrue(missing.getMessage().contains("data/README.md"), missing.getMessage());
        Files.writeString(dir.resolve("x.json"), "{\"steps\": 3}");
        IOException noCommand = assertThrows(IOException.class, () -> CheckpointInfo.read(dir.resolve("x.json"), CheckpointInfo.Vae.class));
        assertTrue(noCommand.getMessage().contains("command"), noCommand.getMessage());
        Files.writeString(dir.resolve("x.json"), "{\"steps\": ");
        assertThrows(IOException.class, () -> CheckpointInfo.read(dir.resolve("x.json"), CheckpointInfo.Vae.class));
    }

    @Test
    void roundsMeasuredFiguresAsTheyAreWritten() {
        assertEquals(0.9144, CheckpointInfo.round(0.91437, 4));
        assertEquals(18052.0, CheckpointInfo.round(18051.6, 0));
    }
}
