package org.lesson8.tools;

import org.lesson8.course.Course;
import org.lesson8.train.CheckpointHashes;
import java.nio.file.Path;
import java.nio.file.Files;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * {@code ./course train NAME [args]}: trains (or measures) a shipped checkpoint with a fixed seed. Each training
 * command writes data/checkpoints/NAME.safetensors, NAME.json (configuration, command, measured figures) and
 * NAME-log.csv; data/README.md lists the commands that made the shipped files. NAME.json records the SHA-256 of
 * the files it describes, checked on every load; {@code ./course train rehash NAME} records it anew.
 */
public final class TrainCheckpoint {
    private TrainCheckpoint() {}

    /** What a command runs, given the arguments after its name. */
    @FunctionalInterface
    interface Runner {
        void run(String[] args) throws Exception;
    }

    /** One line of the table: the name typed after {@code ./course train}, its arguments, what it does. */
    record Command(String name, String arguments, String description, Runner runner) {}

    static final List<Command> COMMANDS = List.of(
            new Command("vit", "[steps=18000] [seconds]", "the ViT of notebook 01 from scratch (cycle 0 of its chain)",
                    a -> TrainVit.cycle(TrainVit.Cycle.SCRATCH, intArg(a, 0, 18000), doubleArg(a, 1, 1e9))),
            new Command("vitWarmRestart", "[steps=12000] [seconds]",
                    "one more cosine cycle of the ViT checkpoint at half the peak learning rate",
                    a -> TrainVit.cycle(TrainVit.Cycle.WARM_RESTART, intArg(a, 0, 12000), doubleArg(a, 1, 1e9))),
            new Command("vitNoAugmentation", "[steps=6000] [seconds]",
                    "one cycle of the ViT checkpoint on unshifted images at a low learning rate",
                    a -> TrainVit.cycle(TrainVit.Cycle.NO_AUGMENTATION, intArg(a, 0, 6000), doubleArg(a, 1, 1e9))),
            new Command("vitSoup", "[steps=6000] [copies=4]",
                    "fine-tunes copies of the ViT checkpoint and keeps the mean of their weights (model soup)",
                    a -> TrainVit.soup(intArg(a, 0, 6000), intArg(a, 1, 4))),
            new Command("vitVsCnn", "[epochs=10]",
                    "the ViT of notebook 01 and the small CNN, the same epochs on 10%, 30% and 100% of the data -> vit_vs_cnn.csv",
                    a -> TrainVit.versusCnn(a)),
            new Command("vitPatch2", "[steps=2000] [seconds]",
                    "ViT-Ti/4's sizes at patch 2 (196 patches) for the local heads of Fig. 7 right in notebook 01",
                    a -> TrainVit.patch2(intArg(a, 0, 2000), doubleArg(a, 1, 1e9))),
            new Command("clip", "[steps=2500] [seconds] | bench [steps=10]",
                    "the CLIP of notebook 04 | its training and embedding throughput", TrainClip::run),
            new Command("clipScenes", "[steps=4000] [seconds]",
                    "the text-to-image CLIP on captioned scenes and Fashion captions (notebooks 04-07)", TrainClipScenes::run),
            new Command("imageGpt", "[steps=3000] [seconds] [bertSteps=steps] | bench | judge",
                    "the Image GPT of notebook 02 and its BERT twin | cached sampling speed | the ViT's verdict on completions",
                    TrainImageGpt::run),
            new Command("imageGptMore", "[steps=4000] [every=1000] [seconds]",
                    "one more cosine cycle of the AR Image GPT, its linear probe at every layer measured every EVERY steps "
                            + "into image_gpt-probe.csv", TrainImageGpt::more),
            new Command("vae", "[steps=1200] | describe", "the VAE of notebook 03 | re-measures it and rewrites vae.json",
                    TrainVae::run),
            new Command("dit", "[steps=9000] [seconds]", "the DiT of notebook 03 on the shipped VAE's latents", TrainDit::run),
            new Command("ditEval", "[perClass=100] [steps=50]",
                    "judges the shipped DiT's samples with the shipped ViT into dit-quality.csv", TrainDitEval::run),
            new Command("judge", "[steps=1500] [seconds]",
                    "the caption judge of the captioned scenes (notebooks 05-07), measured on held-out and test scenes",
                    TrainJudge::run),
            new Command("dvae", "[steps=3000] [seconds]",
                    "the discrete VAE of notebook 05 on scenes and Fashion-MNIST (DALL·E stage 1)", TrainDallE::dvae),
            new Command("dalle", "[steps=3000] [seconds]",
                    "the DALL·E transformer of notebook 05 on the shipped dVAE's tokens of captioned images", TrainDallE::dalle),
            new Command("glide", "[steps=3000] [seconds]",
                    "the GLIDE of notebook 06 on scenes and Fashion captions, its samples judged at guidance 0, 1, 3", TrainGlide::base),
            new Command("glideMore", "[steps=6000] [seconds] [every=1000]",
                    "one more cosine cycle of the glide checkpoint (lr 3e-4), judged and written every EVERY steps", TrainGlide::more),
            new Command("glidePatch2", "[steps=5000] [seconds] [every=500]",
                    "the GLIDE of notebook 06 at 2x2 patches, made from glide and fine-tuned, judged with ancestral sampling",
                    TrainGlide::patch2),
            new Command("glidePatch2More", "[steps=3000] [seconds] [every=1000] [fashion=24]",
                    "one more cosine cycle of glide_p2 (lr 3e-4, FASHION of 64 images per batch Fashion, the rest scenes), judged at s = 3 and written every EVERY steps", TrainGlide::patch2More),
            new Command("glideSweep", "[steps=100] [perPrompt=4] [name=glide_p2]",
                    "the guidance sweep of glide_p2 (or glide) through the shared evaluation -> NAME-sweep.csv (notebook 06)",
                    TrainGlide::sweep),
            new Command("noisedClip", "[steps=1000]",
                    "GLIDE's noised CLIP, fine-tuned from clip_scenes on noised pairs (CLIP guidance in notebook 06)", TrainGlide::noisedClip),
            new Command("glideInpaint", "[steps=800] [from=glide_p2]",
                    "GLIDE's inpainting model, fine-tuned from glide_p2 (or glide) on random rectangular masks", TrainGlide::inpainting),
            new Command("unclipPrior", "[steps=4000] [seconds]",
                    "the unCLIP diffusion prior of notebook 07 (caption -> CLIP image embedding of clip_scenes)", TrainUnClip::prior),
            new Command("unclipJudge", "",
                    "the shipped unCLIP decoder judged again from every source, the prior's (unCLIP itself) included -> unclip_decoder.json",
                    TrainUnClip::judge),
            new Command("unclipDecoder", "[steps=3000] [seconds] [from=glide_p2] [every=0] [fashion=24]",
                    "the unCLIP decoder of notebook 07, made from glide_p2 (or glide) and fine-tuned on CLIP image embeddings (FASHION of 64 per batch)", TrainUnClip::decoder),
            new Command("rehash", "NAME [JSON]",
                    "records the SHA-256 of NAME.safetensors in NAME.json (or JSON.json), checked on every load: after a run of an "
                            + "older library or a file replaced on purpose", TrainCheckpoint::rehash));

    /** The names of the ViT continuations as vit_fashion.json's recorded command chain spells them. */
    static final Map<String, String> FORMER_NAMES = Map.of("vitMore", "vitWarmRestart", "vitPolish", "vitNoAugmentation");

    static Optional<Command> find(String name) {
        String current = FORMER_NAMES.getOrDefault(name, name);
        return COMMANDS.stream().filter(c -> c.name().equals(current)).findFirst();
    }

    static String usage() {
        StringBuilder b = new StringBuilder("usage: ./course train NAME [args]\n");
        for (Command c : COMMANDS) {
            b.append(String.format("  %-18s %s%n  %-18s   %s%n", c.name(), c.arguments(), "", c.description()));
        }
        b.append("former names, as in the recorded command of vit_fashion.json: ");
        b.append(FORMER_NAMES.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + " = " + e.getValue()).collect(Collectors.joining(", ")));
        return b.append('\n').toString();
    }

    /** The project's data/checkpoints, where every command writes its files (created when missing). */
    static Path checkpointDir() throws IOException {
        return Files.createDirectories(Course.home().resolve("data").resolve("checkpoints"));
    }

    /** The libtorch thread count a run used, as recorded in the checkpoints' JSON. */
    static String threads() {
        return System.getProperty("ai.djl.pytorch.num_threads", "default");
    }

    static void rehash(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            throw new IllegalArgumentException("usage: ./course train rehash NAME [JSON], e.g. ./course train rehash glide, "
                    + "or ./course train rehash image_gpt_bert image_gpt");
        }
        CheckpointHashes.rehash(checkpointDir(), args[0], args.length > 1 ? args[1] : null);
    }

    static int intArg(String[] args, int i, int otherwise) {
        return args.length > i ? Integer.parseInt(args[i]) : otherwise;
    }

    static double doubleArg(String[] args, int i, double otherwise) {
        return args.length > i ? Double.parseDouble(args[i]) : otherwise;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.print(usage());
            System.exit(2);
        }
        Optional<Command> command = find(args[0]);
        if (command.isEmpty()) {
            System.err.print("unknown command '" + args[0] + "'\n" + usage());
            System.exit(2);
        }
        if (FORMER_NAMES.containsKey(args[0])) System.err.println(args[0] + " is now called " + command.get().name());
        command.get().runner().run(Arrays.copyOfRange(args, 1, args.length));
    }
}
