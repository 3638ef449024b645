package org.lesson8.train;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a shipped checkpoint's {@code NAME.json} says: configuration, seed, steps, measured figures and the command
 * that made it, one record per checkpoint, written and read with Gson. A component {@code testAccuracy} is the JSON
 * field {@code test_accuracy}; an absent field reads as {@code null} (or 0 for a number that cannot be null), and a
 * {@code null} component is left out when written. {@link #write} adds the field {@code sha256}: the SHA-256 of the
 * checkpoint files the JSON describes ({@code NAME.safetensors} and {@link Info#otherCheckpoints()}), see
 * {@link CheckpointHashes}; records do not carry it, and {@link #toJson} leaves it out.
 */
public final class CheckpointInfo {
    private CheckpointInfo() {}

    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .setPrettyPrinting()
            .disableHtmlEscaping()
            .create();

    /** The description of one checkpoint; each names the command that made it. */
    public sealed interface Info permits Vit, Clip, ClipScenes, ImageGpt, Vae, Dit, DitPartial, CaptionJudge, Dvae, DallE,
            Glide, GlideFine, NoisedClip, GlideInpaint, UnClipPrior, UnClipDecoder {
        /** The command that made the checkpoint; a chain of commands joined by {@code " && "} when it took several. */
        String command();

        /** Checkpoint files the same run made besides {@code NAME.safetensors}, whose hashes the JSON also records. */
        default List<String> otherCheckpoints() {
            return List.of();
        }
    }

    /** vit_fashion.json: the ViT of notebook 01, made by a chain of cycles (one seed per cycle), maybe ending in a soup. */
    public record Vit(String model, String config, long parameters, long seed, List<Long> seedPerCycle, int steps, int batch,
                      long trainSeconds, double testAccuracy, String command, String soup,
                      List<Ingredient> soupIngredients) implements Info {
        /** One fine-tuned copy of a model soup: the command of its cycle, its steps, seed and test accuracy. */
        public record Ingredient(String cycle, int steps, long seed, double testAccuracy) {}

        /** The number of training commands in the chain (the index of the next cycle). */
        public int cycles() {
            return command.split(" && ").length;
        }
    }

    /** clip.json: the CLIP of notebook 04 and its zero-shot and retrieval figures. */
    public record Clip(String model, String config, String recipe, long parameters, long seed, long shapesSeed, int steps,
                       int batch, long trainSeconds, String threads, double finalScale, double zeroShotAccuracy,
                       double zeroShotEnsembleAccuracy, int zeroShotTestImages, double heldoutImageToTextTop1,
                       double heldoutImageToTextChance, double heldoutExactCaptionTop1, double heldoutExactCaptionChance,
                       double heldoutTextToImageTop1, double heldoutTextToImageChance, double seenImageToTextTop1,
                       double seenTextToImageTop1, String command) implements Info {}

    /**
     * clip_scenes.json: the text-to-image CLIP (scenes + Fashion captions): zero-shot on Fashion-MNIST, image → text
     * retrieval on test and held-out scenes (chance beside it), and attribute binding on two-object scenes.
     */
    public record ClipScenes(String model, String config, String recipe, long parameters, long seed, long scenesSeed,
                             int steps, long trainSeconds, String threads, double finalScale, double zeroShotAccuracy,
                             int zeroShotTestImages, double testImageToTextTop1, double heldoutImageToTextTop1,
                             double imageToTextChance, int retrievalScenes, double testBindingColours,
                             double testBindingOrder, double heldoutBindingColours, double heldoutBindingOrder,
                             int bindingScenes, String command) implements Info {}

    /** image_gpt.json: the Image GPT of notebook 02, its palette, likelihood, probes, completions and sampling speed. */
    public record ImageGpt(String model, String config, long parameters, long seed, float[][] palette, String paletteNote,
                           String recipe, int steps, long trainSeconds, double testBitsPerDim,
                           double baselineIndependentBitsPerDim, Probe probe, Bert bert, Completions completionsVit,
                           Sampling samplingBenchmark, String threads, String command) implements Info {
        /** Linear probes on 10k/10k images; {@code bertTestAccuracy} is null without a BERT twin. */
        public record Probe(int trainImages, int testImages, int steps, int layer, double arTestAccuracy,
                            double rawPixelsTestAccuracy, Double bertTestAccuracy) {}

        /** The BERT-objective twin; {@code finalMaskedBitsPerDim} is null when it was not trained. */
        public record Bert(int steps, long trainSeconds, Double finalMaskedBitsPerDim) {}

        /** The lesson-01 ViT's verdict on completed test images and on the quantised originals. */
        public record Completions(int images, double completionLabelAgreement, double vitAccuracyOnQuantisedOriginals,
                                  String command) {}

        /** Seconds to sample full images with and without the key/value cache. */
        public record Sampling(double batch1CachedS, double batch1UncachedS, double batch16CachedS,
                               double batch16UncachedS, boolean identical) {}

        /** The BERT twin, image_gpt_bert.safetensors, when this run trained it. */
        @Override
        public List<String> otherCheckpoints() {
            return bert != null && bert.steps() > 0 ? List.of(BERT_FILE) : List.of();
        }

        public static final String BERT_FILE = "image_gpt_bert.safetensors";

        public ImageGpt withCompletions(Completions c) {
            return new ImageGpt(model, config, parameters, seed, palette, paletteNote, recipe, steps, trainSeconds,
                    testBitsPerDim, baselineIndependentBitsPerDim, probe, bert, c, samplingBenchmark, threads, command);
        }
    }

    /** vae.json: stage 1 of notebook 03; {@code trainSeconds} is null when the file was re-measured without training. */
    public record Vae(String model, long parameters, int steps, int batch, long seed, Long trainSeconds,
                      double testMsePerPixel, double latentScale, String command) implements Info {}

    /** dit.json: stage 2 of notebook 03 (EMA weights). */
    public record Dit(String model, long parameters, int steps, int skippedNonFiniteUpdates, long trainSeconds,
                      double finalMse, double emaDecay, int batch, float lr, long seed, String vae,
                      String command) implements Info {}

    /** dit-partial.json: where an unfinished DiT run's last snapshot stands. */
    public record DitPartial(int steps, int of, long seconds, String command) implements Info {}

    /**
     * caption_judge.json: the judge of the captioned scenes, measured on held-out and on test scenes (real images,
     * each against a randomly phrased caption of its own).
     */
    public record CaptionJudge(String model, String config, String recipe, long parameters, long seed, long scenesSeed, int steps,
                               int batch, long trainSeconds, String threads, Measured heldOut, Measured test,
                               String command) implements Info {
        /** Caption-level shares judged correct (all, one-object, two-object scenes) and per-attribute accuracies. */
        public record Measured(int scenes, double captionCorrect, double oneObjectCaptionCorrect, double twoObjectCaptionCorrect,
                               java.util.Map<String, Double> perAttribute) {}
    }

    /**
     * dvae.json: stage 1 of notebook 05, trained on scenes and Fashion-MNIST; reconstruction error per sub-pixel
     * (values in [0, 1]) and codebook usage measured on test scenes and Fashion-MNIST test images.
     */
    public record Dvae(String model, String config, String recipe, String anneal, long parameters, long seed,
                       long scenesSeed, int steps, long trainSeconds, String threads, Measured testScenes,
                       Measured testFashion, String command) implements Info {
        /** decode(encode(x)) against x: Bernoulli NLL and squared error per sub-pixel; perplexity and dead codes of the tokens. */
        public record Measured(int images, double bcePerPixel, double msePerPixel, double perplexity, int deadCodes) {}
    }

    /**
     * dalle.json: stage 2 of notebook 05 on the shipped dVAE's tokens: the training table, the final training
     * losses (mean of the last 100 steps) and the cross-entropies of pairs never trained on (nats per token).
     */
    public record DallE(String model, String config, String recipe, long parameters, long seed, long scenesSeed,
                        String dvae, int tableScenes, int tableFashion, int phrasings, int steps, long trainSeconds,
                        String threads, double finalTextLoss, double finalImageLoss, Nll testScenes, Nll testFashion,
                        Nll heldOutScenes, String command) implements Info {
        /** Mean cross-entropy of the caption and of the image tokens over {@code pairs} (caption, codes) pairs. */
        public record Nll(int pairs, double text, double image) {}
    }

    /**
     * glide.json: the base GLIDE of notebook 06 (EMA weights), with its samples measured at a few guidance scales:
     * the caption judge on seen one-object captions, the lesson-01 ViT on Fashion captions.
     */
    public record Glide(String model, String config, String recipe, long parameters, int steps, long trainSeconds, String threads,
                        double finalMse, double emaDecay, long seed, long scenesSeed, List<Samples> samples,
                        String command) implements Info {
        /** At guidance {@code guidance}, DDIM {@code ddimSteps}: shares judged correct among {@code scenes} and {@code fashion} samples. */
        public record Samples(double guidance, int ddimSteps, int scenes, double oneObjectSeenCaptionCorrect, int fashion,
                              double fashionClassCorrect) {}
    }

    /**
     * glide_p2.json: the 2×2-patch GLIDE of notebook 06, made from glide.safetensors ({@code startedFrom}) and fine-tuned;
     * its samples judged per guidance scale with {@code sampler}, and the starting 4×4 model's the same way at s = 3
     * ({@code startSamples}).
     */
    public record GlideFine(String model, String config, String startedFrom, String recipe, long parameters, int steps,
                            long trainSeconds, String threads, double finalMse, double emaDecay, long seed, String sampler,
                            Samples startSamples, List<Samples> samples, String command) implements Info {
        /** At guidance {@code guidance}: shares judged correct (whole caption, and shape alone) and Fashion class accuracy. */
        public record Samples(double guidance, int scenes, double oneObjectSeenCaptionCorrect, double oneObjectSeenShapeCorrect,
                              int fashion, double fashionClassCorrect) {}
    }

    /**
     * noised_clip.json: GLIDE's noised CLIP, fine-tuned from clip_scenes; caption retrieval (image → text top-1 among
     * {@code scenes} test scenes) at several noise levels, before ({@code start}) and after the fine-tune.
     */
    public record NoisedClip(String model, String startedFrom, String recipe, long parameters, int steps, long trainSeconds,
                             String threads, double finalLoss, long seed, int scenes, List<Retrieval> retrieval,
                             String command) implements Info {
        /** Top-1 at timestep {@code timestep}: the starting CLIP and the fine-tuned noised CLIP. */
        public record Retrieval(int timestep, double start, double trained) {}
    }

    /**
     * glide_inpaint.json: the inpainting GLIDE fine-tuned from glide_p2.safetensors or glide.safetensors (EMA weights), measured on edits: the
     * right-hand object of two-object test scenes erased and refilled from a caption that gives it a new colour.
     */
    public record GlideInpaint(String model, String startedFrom, String recipe, long parameters, int steps, long trainSeconds,
                               String threads, double finalMse, double emaDecay, long seed, Edits edits, String command) implements Info {
        /** Caption accuracy of the edited scenes with the inpainting model and with the base model + pasting; largest change outside. */
        public record Edits(int scenes, double guidance, int ddimSteps, double inpaintingModelCaptionCorrect,
                            double baseWithPastingCaptionCorrect, double maxChangeOutsideMask) {}
    }

    /**
     * unclip_prior.json: the unCLIP prior on the frozen scene CLIP, measured on {@code scenes} test scenes (canonical
     * captions): mean cosine of the prior's sample (best of two) and of the caption's text embedding with the scene's
     * image embedding, and caption retrieval (embedding → best of the probe captions by CLIP) for the image embedding,
     * the prior's sample and the text embedding used as an image embedding would be judged the same way.
     */
    public record UnClipPrior(String model, String config, String clip, String recipe, long parameters, int steps, long trainSeconds,
                              String threads, double finalMse, double emaDecay, long seed, int scenes, int samplingSteps,
                              double guidance, double priorCosineToImage, double textCosineToImage, double imageCaptionTop1,
                              double priorCaptionTop1, String command) implements Info {}

    /**
     * unclip_decoder.json: the unCLIP decoder fine-tuned from glide.safetensors on frozen-CLIP image embeddings; its
     * samples judged per embedding source at one guidance scale.
     */
    public record UnClipDecoder(String model, String config, String startedFrom, String clip, String recipe, long parameters,
                                int steps, long trainSeconds, String threads, double finalMse, double emaDecay, long seed,
                                String sampler, List<Samples> samples, String command) implements Info {
        /** The same checkpoint judged again: {@code samples} in place of its own. */
        public UnClipDecoder withSamples(List<Samples> s) {
            return new UnClipDecoder(model, config, startedFrom, clip, recipe, parameters, steps, trainSeconds, threads, finalMse,
                    emaDecay, seed, sampler, s, command);
        }

        /**
         * Shares judged correct among {@code scenes} seen one-object and {@code fashion} Fashion samples decoded from
         * {@code source} at guidance {@code guidance} over {@code samplingSteps} steps of {@code sampler}.
         */
        public record Samples(String source, double guidance, int samplingSteps, int scenes, double oneObjectSeenCaptionCorrect,
                              int fashion, double fashionClassCorrect) {}
    }

    /** The JSON text of {@code info}, as written into the file. */
    public static String toJson(Info info) {
        return GSON.toJson(info) + "\n";
    }

    /** Reads JSON text written by {@link #toJson} (or by hand with the same field names). */
    public static <T extends Info> T fromJson(String json, Class<T> type) {
        T info = GSON.fromJson(json, type);
        if (info == null || info.command() == null) {
            throw new JsonParseException("no \"command\" field: not the description of a checkpoint");
        }
        return info;
    }

    /**
     * Writes {@code info} into {@code file} (NAME.json) with the {@code sha256} of NAME.safetensors and of the info's
     * {@link Info#otherCheckpoints()} beside it: the hash of each file this run saved, else the hash already recorded.
     */
    public static void write(Path file, Info info) throws IOException {
        String name = file.getFileName().toString();
        String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        List<String> files = new java.util.ArrayList<>();
        files.add(stem + ".safetensors");
        files.addAll(info.otherCheckpoints());
        Map<String, String> hashes = CheckpointHashes.forWrite(file, files);
        Files.writeString(file, CheckpointHashes.withEntries(GSON.toJsonTree(info).getAsJsonObject(), hashes), StandardCharsets.UTF_8);
    }

    public static <T extends Info> T read(Path file, Class<T> type) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " does not exist; train its checkpoint with the command listed in data/README.md");
        }
        try {
            return fromJson(Files.readString(file, StandardCharsets.UTF_8), type);
        } catch (JsonParseException e) {
            throw new IOException(file + " is not readable as " + type.getSimpleName() + " information: " + e.getMessage(), e);
        }
    }

    /** {@code x} rounded to {@code decimals} places, as measured figures are written (e.g. accuracy to 4). */
    public static double round(double x, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(x * f) / f;
    }
}
