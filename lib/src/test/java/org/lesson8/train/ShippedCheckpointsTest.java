package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lesson8.NdTest;
import org.lesson8.course.Course;
import org.lesson8.lessons.UnClipLesson;
import org.lesson8.models.CaptionJudge;
import org.lesson8.data.Tokenizer;
import org.lesson8.models.Clip;
import org.lesson8.models.DallE;
import org.lesson8.models.Dvae;
import org.lesson8.models.Dit;
import org.lesson8.models.Glide;
import org.lesson8.models.ImageGpt;
import org.lesson8.models.NoisedClip;
import org.lesson8.models.UnClipDecoder;
import org.lesson8.models.UnClipPrior;
import org.lesson8.models.Vae;
import org.lesson8.models.Vit;
import org.lesson8.nn.Module;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/** Every checkpoint in data/checkpoints holds exactly the model's parameters and buffers, by name and shape. */
class ShippedCheckpointsTest extends NdTest {
    static Module model(NDManager m, String name) {
        return switch (name) {
            case "vit_fashion" -> new Vit(m, Vit.fashionSmall(), 0);
            case "vae" -> new Vae(m, Vae.fashion(), 0);
            case "dit" -> new Dit(m, Dit.fashion(), 0);
            case "clip" -> new Clip(m, Clip.course(), 0);
            case "clip_scenes" -> new Clip(m, Clip.textToImage(), Tokenizer.textToImage(), 0);
            case "image_gpt" -> new ImageGpt(m, ImageGpt.fashion(), 0);
            case "image_gpt_bert" -> new ImageGpt(m, ImageGpt.fashion().withObjective(ImageGpt.Objective.BERT), 0);
            case "dvae" -> new Dvae(m, Dvae.course(), 0);
            case "dalle" -> new DallE(m, DallE.course(Tokenizer.textToImage().size(), Dvae.course()), 0);
            case "caption_judge" -> new CaptionJudge(m, CaptionJudge.scenes(), 0);
            case "glide" -> new Glide(m, Glide.course(), 0);
            case "glide_p2" -> new Glide(m, Glide.coursePatch2(), 0);
            case "glide_inpaint" -> new Glide(m, Glide.coursePatch2().withInpainting(), 0);
            case "noised_clip" -> new NoisedClip(m, Clip.textToImage(), Tokenizer.textToImage(), 0);
            case "unclip_prior" -> new UnClipPrior(m, UnClipPrior.course(), 0);
            case "unclip_decoder" -> new UnClipDecoder(m, UnClipLesson.decoderConfig(), 0);
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit_fashion", "vae", "dit", "clip", "image_gpt", "image_gpt_bert", "caption_judge", "clip_scenes", "dvae",
            "dalle", "glide", "glide_p2", "glide_inpaint", "noised_clip", "unclip_prior", "unclip_decoder"})
    void loadsWithNothingMissingOrExtra(String name) throws Exception {
        try (NDManager sub = m.newSubManager()) {
            Module model = model(sub, name);
            Path file = Course.checkpoint(name + ".safetensors");
            Map<String, NDArray> saved = Checkpoint.read(sub, file);
            assertEquals(new TreeSet<>(model.state().keySet()), new TreeSet<>(saved.keySet()));
            for (Map.Entry<String, NDArray> e : model.state().entrySet()) {
                assertEquals(e.getValue().getShape(), saved.get(e.getKey()).getShape(), e.getKey());
            }
            Checkpoint.load(model, file);
            Path info = file.resolveSibling(name + ".json");
            if (Files.isRegularFile(info)) {
                JsonObject json = JsonParser.parseString(Files.readString(info)).getAsJsonObject();
                assertEquals(json.get("parameters").getAsLong(), model.parameterCount(), "parameters in " + info.getFileName());
            }
        }
    }

    /** Each safetensors file of data/checkpoints has its SHA-256 recorded in a JSON (its own or its run's), and matches it. */
    @Test
    void everyShippedCheckpointHasARecordedHashThatMatches() throws Exception {
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(files.size() >= 15, files.toString());
        for (Path f : files) {
            String name = f.getFileName().toString().replace(".safetensors", "");
            var recorded = CheckpointHashes.recorded(f);
            assertTrue(recorded.isPresent(), f.getFileName() + " has no recorded SHA-256 (a JSON written by an older library?): "
                    + "run ./course train rehash " + name);
            assertEquals(recorded.get().sha256(), CheckpointHashes.sha256(f), f.getFileName() + " does not match "
                    + recorded.get().json().getFileName());
            CheckpointHashes.verify(f);
        }
    }

    @Test
    void theVaeScaleIsABufferLoadedFromTheCheckpoint() throws Exception {
        try (NDManager sub = m.newSubManager()) {
            Vae vae = new Vae(sub, Vae.fashion(), 0);
            assertEquals(1f, vae.scale(), 0f);
            assertFalse(vae.parameters().containsKey("latent_scale"));
            Checkpoint.load(vae, Course.checkpoint("vae.safetensors"));
            JsonObject json = JsonParser.parseString(Files.readString(Course.checkpoint("vae.json"))).getAsJsonObject();
            assertEquals(json.get("latent_scale").getAsDouble(), vae.scale(), 1e-5);
        }
    }
}
