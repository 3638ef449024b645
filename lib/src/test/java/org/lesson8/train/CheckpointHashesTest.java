package org.lesson8.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.NdTest;
import org.lesson8.course.Course;
import org.lesson8.models.Vit;
import org.lesson8.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A damaged checkpoint is refused with the file, both hashes and what to do; the training tools record the hashes. */
class CheckpointHashesTest extends NdTest {
    private static Path shipped(String name) {
        return Course.home().resolve("data").resolve("checkpoints").resolve(name);
    }

    private static void flipBytes(Path file, int... offsets) throws IOException {
        byte[] b = Files.readAllBytes(file);
        for (int o : offsets) b[o] ^= (byte) 0x5a;
        Files.write(file, b);
    }

    private static final class Weights extends Module {
        Weights(NDManager m, float v) {
            super(m);
            param("w", m.ones(new Shape(4, 4)).mul(v), true);
        }
    }

    @Test
    void aShippedCheckpointWithAFewFlippedBytesIsRefusedWithWhatToDo(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("vit_fashion.safetensors");
        Files.copy(shipped("vit_fashion.safetensors"), file);
        Files.copy(shipped("vit_fashion.json"), dir.resolve("vit_fashion.json"));
        try (NDManager sub = m.newSubManager()) {
            Vit vit = new Vit(sub, Vit.fashionSmall(), 0);
            Checkpoint.load(vit, file);   // the intact copy loads
            long size = Files.size(file);
            flipBytes(file, (int) (size / 2), (int) (size / 2) + 101, (int) size - 7);   // inside the weights, not the header
            String expected = CheckpointHashes.recorded(file).orElseThrow().sha256();
            String actual = CheckpointHashes.sha256(file);
            assertNotEquals(expected, actual);
            IOException e = assertThrows(IOException.class, () -> Checkpoint.load(vit, file));
            String msg = e.getMessage();
            assertTrue(msg.contains("vit_fashion.safetensors"), msg);
            assertTrue(msg.contains(expected) && msg.contains(actual), msg);
            assertTrue(msg.contains("git checkout -- data/checkpoints/vit_fashion.safetensors"), msg);
            assertTrue(msg.contains("./course train vit 18000"), "the recorded command: " + msg);
            assertTrue(msg.contains("./course train rehash vit_fashion`"), msg);
        }
    }

    @Test
    void aCheckpointWithoutItsOwnJsonIsCheckedAgainstTheJsonOfTheRunThatMadeIt(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("image_gpt_bert.safetensors");
        Files.copy(shipped("image_gpt_bert.safetensors"), file);
        Files.copy(shipped("image_gpt.json"), dir.resolve("image_gpt.json"));
        CheckpointHashes.Recorded r = CheckpointHashes.recorded(file).orElseThrow();
        assertEquals("image_gpt.json", r.json().getFileName().toString());
        CheckpointHashes.verify(file);
        flipBytes(file, (int) Files.size(file) - 3);
        IOException e = assertThrows(IOException.class, () -> CheckpointHashes.verify(file));
        assertTrue(e.getMessage().contains("./course train rehash image_gpt_bert image_gpt`"), e.getMessage());
        CheckpointHashes.rehash(dir, "image_gpt_bert", null);
        CheckpointHashes.verify(file);
    }

    @Test
    void aFileNoJsonListsIsReadUnchecked(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("mine.safetensors");
        Checkpoint.save(new Weights(m, 2f), f);
        flipBytes(f, (int) Files.size(f) - 1);
        assertTrue(CheckpointHashes.recorded(f).isEmpty());
        CheckpointHashes.verify(f);
    }

    @Test
    void writingTheJsonOfASavedCheckpointRecordsItsHash(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("dit.safetensors");
        Checkpoint.save(new Weights(m, 3f), f);
        var info = new CheckpointInfo.DitPartial(10, 20, 1, "./course train dit 20");
        CheckpointInfo.write(dir.resolve("dit.json"), info);
        JsonObject json = JsonParser.parseString(Files.readString(dir.resolve("dit.json"))).getAsJsonObject();
        assertEquals(CheckpointHashes.sha256(f), json.getAsJsonObject("sha256").get("dit.safetensors").getAsString());
        assertEquals(info, CheckpointInfo.read(dir.resolve("dit.json"), CheckpointInfo.DitPartial.class), "the field is no part of the record");
        Checkpoint.load(new Weights(m, 0f), f);

        // saved again by this run (a later snapshot): the new bytes are recorded
        Checkpoint.save(new Weights(m, 4f), f);
        assertThrows(IOException.class, () -> Checkpoint.read(m, f), "the JSON still holds the first snapshot's hash");
        CheckpointInfo.write(dir.resolve("dit.json"), info);
        Checkpoint.load(new Weights(m, 0f), f);
    }

    @Test
    void rewritingAJsonKeepsTheHashOfAFileThisRunDidNotSave(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("vae.safetensors");
        Files.copy(shipped("vae.safetensors"), f);
        Files.copy(shipped("vae.json"), dir.resolve("vae.json"));
        flipBytes(f, (int) Files.size(f) - 2);
        // a command that re-measures and rewrites vae.json must not record the damaged file as good
        CheckpointInfo.Vae info = CheckpointInfo.read(dir.resolve("vae.json"), CheckpointInfo.Vae.class);
        CheckpointInfo.write(dir.resolve("vae.json"), info);
        assertThrows(IOException.class, () -> CheckpointHashes.verify(f));
    }

    @Test
    void rehashAddsOnlyTheFieldToAHandFormattedJson(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("glide.safetensors");
        Checkpoint.save(new Weights(m, 1f), f);
        String text = "{\n  \"steps\": 3, \"samples\": [{\"guidance\": 1.0}],\n  \"command\": \"./course train glide 3\"\n}\n";
        Files.writeString(dir.resolve("glide.json"), text);   // as an older library version writes it: no sha256
        assertTrue(CheckpointHashes.recorded(f).isEmpty());
        CheckpointHashes.rehash(dir, "glide", null);
        String hash = CheckpointHashes.sha256(f);
        assertEquals("{\n  \"steps\": 3, \"samples\": [{\"guidance\": 1.0}],\n  \"command\": \"./course train glide 3\",\n"
                + "  \"sha256\": {\n    \"glide.safetensors\": \"" + hash + "\"\n  }\n}\n", Files.readString(dir.resolve("glide.json")));
        Checkpoint.save(new Weights(m, 5f), f);
        CheckpointHashes.rehash(dir, "glide", null);   // replaces the entry in place
        assertEquals(1, Files.readString(dir.resolve("glide.json")).split("sha256").length - 1);
        CheckpointHashes.verify(f);
        IOException missing = assertThrows(IOException.class, () -> CheckpointHashes.rehash(dir, "nothing", null));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void theBertTwinIsAmongTheFilesOfTheImageGptRunWhenItWasTrained() throws IOException {
        CheckpointInfo.ImageGpt g = CheckpointInfo.read(shipped("image_gpt.json"), CheckpointInfo.ImageGpt.class);
        assertEquals(List.of("image_gpt_bert.safetensors"), g.otherCheckpoints());
        var untrained = new CheckpointInfo.ImageGpt(g.model(), g.config(), g.parameters(), g.seed(), g.palette(), g.paletteNote(),
                g.recipe(), g.steps(), g.trainSeconds(), g.testBitsPerDim(), g.baselineIndependentBitsPerDim(), g.probe(),
                new CheckpointInfo.ImageGpt.Bert(0, 0, null), g.completionsVit(), g.samplingBenchmark(), g.threads(), g.command());
        assertEquals(List.of(), untrained.otherCheckpoints());
    }
}
