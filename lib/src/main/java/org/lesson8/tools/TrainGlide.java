package org.lesson8.tools;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.course.Course;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.Tokenizer;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.eval.CaptionJudging;
import org.lesson8.eval.ClassJudge;
import org.lesson8.eval.ClipScores;
import org.lesson8.eval.PromptSet;
import org.lesson8.eval.TextToImageEval;
import org.lesson8.lessons.ClipLesson;
import org.lesson8.lessons.GlideLesson;
import org.lesson8.models.Clip;
import org.lesson8.models.Glide;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.NoisedClip;
import org.lesson8.models.Vit;
import org.lesson8.nn.Module;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * The GLIDE checkpoints of notebook 06, fixed seed 42, each written as data/checkpoints/NAME.safetensors, NAME.json
 * (configuration, steps, seconds, measured figures) and NAME-log.csv:
 * <ul>
 *   <li>{@code ./course train glide [steps] [seconds]}: the base model ({@link Glide#course()}, EMA weights) on scenes
 *   and Fashion captions; its samples judged at guidance 0, 1 and 3 with 25 DDIM steps.</li>
 *   <li>{@code ./course train noisedClip [steps]}: the noised CLIP, fine-tuned from clip_scenes.safetensors; caption
 *   retrieval on noised test scenes before and after.</li>
 *   <li>{@code ./course train glideInpaint [steps]}: the inpainting model fine-tuned from glide.safetensors; recolouring
 *   edits judged, against the base model with the known region pasted back.</li>
 * </ul>
 */
public final class TrainGlide {
    private TrainGlide() {}

    public static final long SEED = 42;
    public static final long SCENES_SEED = 42;
    /** Guidance scales, DDIM steps and samples (per group) of the figures in glide.json and glide_inpaint.json. */
    static final double[] SCALES = {0, 1, 3};
    static final double EDIT_SCALE = 3;
    static final int DDIM_STEPS = 25;
    static final int SAMPLES = 40;

    public static void base(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 3000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        Seeds.seed(SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            Glide model = new Glide(m, Glide.course(), SEED);
            MetricsLog log = new MetricsLog();
            Ema ema = new Ema(model, GlideLesson.EMA_DECAY);
            long t0 = System.nanoTime();
            GlideLesson.train(model, GlideLesson.process(), pairs(), GlideLesson.regime(), steps, seconds, SEED, log, ema,
                    step -> progress("glide", "mse", step, log, t0));
            long secs = Math.round((System.nanoTime() - t0) / 1e9);
            ema.copyTo(model);
            CaptionJudging judge = CaptionJudging.shipped(m);
            Vit vit = new Vit(m, Vit.fashionSmall(), 0);
            Checkpoint.load(vit, Course.checkpoint("vit_fashion.safetensors"));
            List<CheckpointInfo.Glide.Samples> samples = new ArrayList<>();
            for (double s : SCALES) {
                samples.add(measure(model, m, judge, new ClassJudge(vit), s));
                System.out.println(samples.get(samples.size() - 1));
            }
            String name = "glide";
            save(model, name, log);
            write(name, new CheckpointInfo.Glide(model.config.name(), model.config.toString(), GlideLesson.regime().toString(),
                    model.parameterCount(), log.size(), secs, TrainCheckpoint.threads(), r(log.tailMean("mse", 200), 5), GlideLesson.EMA_DECAY,
                    SEED, SCENES_SEED, samples, "./course train glide " + steps));
        }
    }

    /**
     * {@code ./course train glideMore [steps] [seconds] [every]}: one more cosine cycle of the shipped glide checkpoint
     * ({@link GlideLesson#continuationRegime()}, data seed 42 + cycle, the ε-MSE min-SNR weighted with
     * γ = {@link GlideLesson#MIN_SNR_GAMMA}). Steps and seconds add up in glide.json, its
     * command joins the chain and glide-log.csv grows by this cycle. Every {@code every} steps (and at the end) the EMA
     * weights are judged and written, so that a long run leaves a usable checkpoint when it is stopped; a snapshot's
     * command says at which step of the cycle it was taken.
     */
    public static void more(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 6000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        int every = TrainCheckpoint.intArg(args, 2, 1000);
        Continuation c = Continuation.of("glide", "glideMore", "glide");
        Path file = c.file();
        CheckpointInfo.Glide before = CheckpointInfo.read(c.json(), CheckpointInfo.Glide.class);
        int cycle = Continuation.cycle(before.command());
        long seed = SEED + cycle;
        Seeds.seed(seed);
        try (NDManager m = NDManager.newBaseManager()) {
            Glide model = new Glide(m, Glide.course(), SEED);
            Checkpoint.load(model, file);
            Glide sampler = new Glide(m, Glide.course(), SEED);
            System.out.printf("continuing from %s (%d steps), cycle %d, seed %d%n", file, before.steps(), cycle, seed);
            TextToImageEval.Judges judges = TextToImageEval.Judges.shipped(m);
            CaptionJudging judge = judges.scenes();
            ClassJudge classJudge = judges.fashion();
            MetricsLog log = new MetricsLog();
            Ema ema = new Ema(model, GlideLesson.EMA_DECAY);
            long t0 = System.nanoTime();
            String command = before.command() + " && ./course train glideMore " + steps;
            IntConsumer snapshot = step -> {
                try {
                    ema.copyTo(sampler);
                    List<CheckpointInfo.Glide.Samples> samples = new ArrayList<>();
                    for (double s : SCALES) samples.add(measure(sampler, m, judge, classJudge, s));
                    samples.forEach(System.out::println);
                    long secs = Math.round((System.nanoTime() - t0) / 1e9);
                    Checkpoint.save(sampler, file);
                    c.writeLog(log, before.steps());
                    write("glide", new CheckpointInfo.Glide(before.model(), before.config(), GlideLesson.continuationRegime()
                            + ", min-SNR gamma " + GlideLesson.MIN_SNR_GAMMA,
                            sampler.parameterCount(), before.steps() + log.size(), before.trainSeconds() + secs,
                            TrainCheckpoint.threads(), r(log.tailMean("mse", 200), 5), GlideLesson.EMA_DECAY, SEED, SCENES_SEED,
                            samples, step == steps ? command : command + " (snapshot at step " + step + " of the cycle)"));
                } catch (Exception e) {
                    throw new IllegalStateException("glideMore: could not write the snapshot at step " + step, e);
                }
            };
            cycle(model, "glideMore", GlideLesson.continuationRegime(), steps, seconds, every, seed, log, ema, t0, snapshot);
        }
    }

    /**
     * One cosine cycle with batches of {@code regime} (the callers' {@link GlideLesson#continuationRegime()}, glidePatch2More's
     * with its Fashion share; ε-MSE, min-SNR γ = {@link GlideLesson#MIN_SNR_GAMMA},
     * EMA updated every step) with {@code snapshot} after every {@code every} steps and once at the end (also when the
     * seconds ran out first).
     */
    static void cycle(Glide model, String name, ClipLesson.Regime regime, int steps, double seconds, int every, long seed,
                      MetricsLog log, Ema ema, long t0, IntConsumer snapshot) {
        GlideLesson.train(model, GlideLesson.process(), pairs(), regime, GlideLesson.MIN_SNR_GAMMA,
                steps, seconds, seed, log, ema, snapshotsEvery(name, steps, every, log, t0, snapshot));
        snapshot.accept(log.size());
    }

    /**
     * The per-step hook of a run that writes snapshots: prints NAME's progress, and takes {@code snapshot} after every
     * {@code every} steps ({@code every} = 0: never) before the last; the caller takes the final one.
     */
    static IntConsumer snapshotsEvery(String name, int steps, int every, MetricsLog log, long t0, IntConsumer snapshot) {
        return step -> {
            progress(name, "mse", step, log, t0);
            if (every > 0 && step % every == 0 && step < steps) snapshot.accept(step);
        };
    }

    /**
     * What one more cycle of the shipped checkpoint NAME continues: its weights, its JSON and the log so far, which the
     * cycle's snapshots rewrite with their own steps appended.
     */
    record Continuation(Path file, Path json, Path logFile, byte[] logBefore) {
        /** NAME's files, or a message naming {@code first}, the command that makes them, when they are missing. */
        static Continuation of(String name, String command, String first) throws java.io.IOException {
            Path dir = TrainCheckpoint.checkpointDir();
            Path file = dir.resolve(name + ".safetensors"), json = dir.resolve(name + ".json"), log = dir.resolve(name + "-log.csv");
            if (!Files.exists(file) || !Files.exists(json) || !Files.exists(log)) {
                throw new IllegalStateException("./course train " + command + " continues from " + file
                        + ", its JSON and its log, which are missing: run ./course train " + first + " first");
            }
            return new Continuation(file, json, log, Files.readAllBytes(log));
        }

        /** The number of commands in a JSON's chain ("a && b" is 2): the cycle that comes next. */
        static int cycle(String chain) {
            return chain.split(" && ").length;
        }

        /** The log as it was, followed by this cycle's rows with their steps shifted by {@code offset}. */
        void writeLog(MetricsLog log, int offset) throws java.io.IOException {
            Files.write(logFile, logBefore);
            log.appendCsv(logFile, offset);
        }
    }

    /** Seed of the 2×2 fine-tune's streams (captions dropped, timesteps, noise), guidance scales and sampling steps of glide_p2.json. */
    public static final long PATCH2_SEED = 99;
    public static final double[] PATCH2_SCALES = {0, 1, 2, 3, 5, 8};
    public static final int PATCH2_SAMPLING_STEPS = 100;
    static final double PATCH2_SNAPSHOT_SCALE = 3;

    /**
     * {@code ./course train glidePatch2 [steps=5000] [seconds] [every=500]}: the GLIDE of notebook 06 at 2×2 patches,
     * made from the shipped 4×4 glide.safetensors by {@link GlideLesson#patch2From} and fine-tuned for one cosine cycle
     * of {@link GlideLesson#continuationRegime()} (min-SNR γ = 5, EMA 0.999, streams from {@link #PATCH2_SEED}). Every
     * {@code every} steps the EMA weights are written with their samples at s = 3 judged; at the end, at every scale of
     * {@link #PATCH2_SCALES}. Samples as glide-text2im draws them: ancestral, {@link #PATCH2_SAMPLING_STEPS} respaced steps.
     */
    public static void patch2(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 5000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        int every = TrainCheckpoint.intArg(args, 2, 500);
        String start = "glide.safetensors";
        CheckpointInfo.Glide before = CheckpointInfo.read(Course.checkpoint("glide.json"), CheckpointInfo.Glide.class);
        Seeds.seed(PATCH2_SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            Glide base = new Glide(m, Glide.course(), SEED);
            Checkpoint.load(base, Course.checkpoint(start));
            Glide model = GlideLesson.patch2From(base, m);
            Glide sampler = new Glide(m, model.config, model.tokenizer, 0);
            TextToImageEval.Judges judges = TextToImageEval.Judges.shipped(m);
            CaptionJudging judge = judges.scenes();
            ClassJudge classJudge = judges.fashion();
            CheckpointInfo.GlideFine.Samples startSamples = measureFine(base, m, judge, classJudge, PATCH2_SNAPSHOT_SCALE);
            System.out.println("the 4×4 model: " + startSamples);
            MetricsLog log = new MetricsLog();
            Ema ema = new Ema(model, GlideLesson.EMA_DECAY);
            long t0 = System.nanoTime();
            String command = "./course train glidePatch2 " + steps;
            String recipe = GlideLesson.continuationRegime() + ", min-SNR gamma " + GlideLesson.MIN_SNR_GAMMA;
            String from = start + " (" + before.steps() + " steps: " + before.command() + ")";
            IntConsumer snapshot = step -> {
                try {
                    ema.copyTo(sampler);
                    long secs = Math.round((System.nanoTime() - t0) / 1e9);
                    double[] scales = step == steps ? PATCH2_SCALES : new double[] {PATCH2_SNAPSHOT_SCALE};
                    List<CheckpointInfo.GlideFine.Samples> samples = new ArrayList<>();
                    for (double s : scales) {
                        samples.add(measureFine(sampler, m, judge, classJudge, s));
                        System.out.println(samples.get(samples.size() - 1));
                    }
                    save(sampler, "glide_p2", log);
                    write("glide_p2", new CheckpointInfo.GlideFine(sampler.config.name(), sampler.config.toString(), from, recipe,
                            sampler.parameterCount(), step, secs, TrainCheckpoint.threads(), r(log.tailMean("mse", 200), 5),
                            GlideLesson.EMA_DECAY, PATCH2_SEED, samplerName(), startSamples, samples,
                            step == steps ? command : command + " (snapshot at step " + step + ")"));
                } catch (Exception e) {
                    throw new IllegalStateException("glidePatch2: could not write the snapshot at step " + step, e);
                }
            };
            cycle(model, "glidePatch2", GlideLesson.continuationRegime(), steps, seconds, every, PATCH2_SEED, log, ema, t0, snapshot);
        }
    }

    /**
     * {@code ./course train glidePatch2More [steps=3000] [seconds] [every=1000] [fashion=24]}: one more cosine cycle of
     * the shipped glide_p2 (the recipe of {@link #patch2}, streams from {@link #PATCH2_SEED} + cycle; {@code fashion} of
     * the 64 images of a batch are Fashion, the rest scenes, so that a cycle can give the domain that lags more of each
     * batch; a share other than 24 is added to the recipe in the JSON). Steps and seconds add up in
     * glide_p2.json, its command joins the chain, its start figures (the 4×4 model) stay, and glide_p2-log.csv grows by
     * this cycle. Every {@code every} steps the EMA weights are judged at s = 3 and written, so that a stopped run leaves a
     * usable checkpoint; at the end they are judged at every scale of {@link #PATCH2_SCALES}.
     */
    public static void patch2More(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 3000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        int every = TrainCheckpoint.intArg(args, 2, 1000);
        ClipLesson.Regime regime = GlideLesson.continuationRegime().withFashion(TrainCheckpoint.intArg(args, 3,
                GlideLesson.continuationRegime().fashionPerBatch()));
        Continuation c = Continuation.of("glide_p2", "glidePatch2More", "glidePatch2");
        Path file = c.file();
        CheckpointInfo.GlideFine before = CheckpointInfo.read(c.json(), CheckpointInfo.GlideFine.class);
        int cycle = Continuation.cycle(before.command());
        long seed = PATCH2_SEED + cycle;
        Seeds.seed(seed);
        try (NDManager m = NDManager.newBaseManager()) {
            Glide model = new Glide(m, Glide.coursePatch2(), SEED);
            Checkpoint.load(model, file);
            Glide sampler = new Glide(m, model.config, model.tokenizer, 0);
            System.out.printf("continuing from %s (%d steps), cycle %d, seed %d%n", file, before.steps(), cycle, seed);
            TextToImageEval.Judges judges = TextToImageEval.Judges.shipped(m);
            CaptionJudging judge = judges.scenes();
            ClassJudge classJudge = judges.fashion();
            MetricsLog log = new MetricsLog();
            Ema ema = new Ema(model, GlideLesson.EMA_DECAY);
            long t0 = System.nanoTime();
            String command = before.command() + " && ./course train glidePatch2More "
                    + (args.length > 3 ? String.join(" ", args) : String.valueOf(steps));
            String recipe = regime.equals(GlideLesson.continuationRegime()) ? before.recipe()
                    : before.recipe() + "; cycle " + cycle + " (after step " + before.steps() + "): " + regime.fashionPerBatch() + " Fashion + "
                    + regime.captionedPerBatch() + " scenes per batch";
            IntConsumer snapshot = step -> {
                try {
                    ema.copyTo(sampler);
                    long secs = Math.round((System.nanoTime() - t0) / 1e9);
                    double[] scales = step == steps ? PATCH2_SCALES : new double[] {PATCH2_SNAPSHOT_SCALE};
                    List<CheckpointInfo.GlideFine.Samples> samples = new ArrayList<>();
                    for (double s : scales) {
                        samples.add(measureFine(sampler, m, judge, classJudge, s));
                        System.out.println(samples.get(samples.size() - 1));
                    }
                    Checkpoint.save(sampler, file);
                    c.writeLog(log, before.steps());
                    write("glide_p2", new CheckpointInfo.GlideFine(before.model(), before.config(), before.startedFrom(),
                            recipe, sampler.parameterCount(), before.steps() + step, before.trainSeconds() + secs,
                            threadsThen(before.threads()), r(log.tailMean("mse", 200), 5), GlideLesson.EMA_DECAY, seed, samplerName(),
                            before.startSamples(), samples, step == steps ? command : command + " (snapshot at step " + step + " of the cycle)"));
                } catch (Exception e) {
                    throw new IllegalStateException("glidePatch2More: could not write the snapshot at step " + step, e);
                }
            };
            cycle(model, "glidePatch2More", regime, steps, seconds, every, seed, log, ema, t0, snapshot);
        }
    }

    /** The threads of the earlier cycles ("2, then 1"), followed by this run's when they differ from the last ones. */
    static String threadsThen(String before) {
        String now = TrainCheckpoint.threads();
        return before.equals(now) || before.endsWith(", then " + now) ? before : before + ", then " + now;
    }

    /** The shipped sweep of the GLIDE of notebook 06 through the shared evaluation (section 3): NAME-sweep.csv. */
    public static final String SWEEP_CSV = "glide_p2-sweep.csv";

    /**
     * {@code ./course train glideSweep [steps=100] [perPrompt=4] [name=glide_p2]}: the shipped GLIDE NAME (glide_p2 at
     * 2×2 patches, or glide at 4×4) at every scale of {@link #PATCH2_SCALES} through the shared evaluation
     * ({@link TextToImageEval}, the full {@link PromptSet}, perPrompt images per prompt, seed 42, ancestral sampling over
     * {@code steps} respaced steps), and real images as the reference row: all groups' rows of
     * {@link org.lesson8.eval.TextToImageReport#combine} and the sampling steps in data/checkpoints/NAME-sweep.csv.
     */
    public static void sweep(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, PATCH2_SAMPLING_STEPS);
        int perPrompt = TrainCheckpoint.intArg(args, 1, 4);
        String name = args.length > 2 ? args[2] : "glide_p2";
        Glide.Config config = switch (name) {
            case "glide_p2" -> Glide.coursePatch2();
            case "glide" -> Glide.course();
            default -> throw new IllegalArgumentException("glideSweep measures glide_p2 or glide, not " + name);
        };
        try (NDManager m = NDManager.newBaseManager()) {
            Glide model = new Glide(m, config, 0);
            Checkpoint.load(model, Course.checkpoint(name + ".safetensors"));
            Clip clip = new Clip(m, Clip.textToImage(), Tokenizer.textToImage(), 0);
            Checkpoint.load(clip, Course.checkpoint("clip_scenes.safetensors"));
            TextToImageEval.Judges judges = TextToImageEval.Judges.shipped(m).withClip(clip);
            PromptSet prompts = PromptSet.full();
            List<org.lesson8.eval.TextToImageReport> reports = new ArrayList<>();
            long t0 = System.nanoTime();
            for (double s : PATCH2_SCALES) {
                org.lesson8.eval.TextToImageReport r = TextToImageEval.evaluate("GLIDE s=" + s, GlideLesson.ancestral(model, s, steps),
                        prompts, perPrompt, SEED, judges);
                reports.add(r);
                System.out.printf("s = %s: one seen %.3f, fashion %.3f (%.0f s)%n", s, r.row(PromptSet.Group.ONE_SEEN).captionAccuracy(),
                        r.row(PromptSet.Group.FASHION).captionAccuracy(), (System.nanoTime() - t0) / 1e9);
            }
            reports.add(TextToImageEval.evaluate("real", TextToImageEval.real(), prompts, perPrompt, SEED, judges));
            Path out = TrainCheckpoint.checkpointDir().resolve(name + "-sweep.csv");
            tech.tablesaw.api.Table table = org.lesson8.eval.TextToImageReport.combine(reports);
            int[] stepsColumn = new int[table.rowCount()];
            java.util.Arrays.fill(stepsColumn, steps);
            table.addColumns(tech.tablesaw.api.IntColumn.create("sampling steps", stepsColumn));
            table.write().csv(out.toFile());
            System.out.println("wrote " + out);
        }
    }

    static String samplerName() {
        return "ancestral (DDPM), " + PATCH2_SAMPLING_STEPS + " respaced steps, classifier-free guidance";
    }

    /**
     * The figures of glide_p2.json at guidance {@code s}: as {@link #judged}, with {@link GlideLesson#ancestral} sampling,
     * and the share of seen one-object samples whose shape alone the judge reads as the caption's.
     */
    static CheckpointInfo.GlideFine.Samples measureFine(Glide model, NDManager m, CaptionJudging judge, ClassJudge vit, double s) {
        TextToImageEval.Generator gen = GlideLesson.ancestral(model, s, PATCH2_SAMPLING_STEPS);
        List<String> scenes = oneSeen();
        try (NDManager sub = m.newSubManager()) {
            NDArray images = gen.generate(sub, scenes, SEED);
            List<org.lesson8.data.SceneAttributes> seen = judge.judge(sub, images).attributes();
            boolean[] whole = new boolean[SAMPLES], shape = new boolean[SAMPLES];
            for (int i = 0; i < SAMPLES; i++) {
                whole[i] = CaptionJudging.captionCorrect(seen.get(i), scenes.get(i));
                shape[i] = org.lesson8.data.SceneCaptions.parse(scenes.get(i)).shape1() == seen.get(i).shape1();
            }
            int[] labels = new int[SAMPLES];
            List<String> fashion = fashionPrompts(labels);
            NDArray clothes = gen.generate(sub, fashion, SEED + 1).mean(new int[] {1}, true);
            return new CheckpointInfo.GlideFine.Samples(s, SAMPLES, r(share(whole), 4), r(share(shape), 4), SAMPLES,
                    r(vit.judge(sub, clothes).accuracy(labels), 4));
        }
    }

    /** {@link #SAMPLES} seen one-object prompts of the shared prompt set, in turn. */
    static List<String> oneSeen() {
        List<String> scenes = new ArrayList<>();
        List<PromptSet.Prompt> seen = PromptSet.full().group(PromptSet.Group.ONE_SEEN);
        for (int i = 0; i < SAMPLES; i++) scenes.add(seen.get(i % seen.size()).caption());
        return scenes;
    }

    /** {@link #SAMPLES} Fashion prompts, the classes in turn; their labels written into {@code labels}. */
    static List<String> fashionPrompts(int[] labels) {
        List<String> fashion = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            labels[i] = i % FashionCaptions.LABELS.size();
            fashion.add(FashionCaptions.prompt(labels[i]));
        }
        return fashion;
    }

    /** Samples of seen one-object scene captions and of Fashion captions at guidance {@code s}, judged. */
    static CheckpointInfo.Glide.Samples measure(Glide model, NDManager m, CaptionJudging judge, ClassJudge vit, double s) {
        double[] acc = judged(GlideLesson.generator(model, s, DDIM_STEPS), m, judge, vit);
        return new CheckpointInfo.Glide.Samples(s, DDIM_STEPS, SAMPLES, r(acc[0], 4), SAMPLES, r(acc[1], 4));
    }

    /**
     * The figures of the text-to-image checkpoints' JSON: {@link #SAMPLES} images of the seen one-object prompts (in
     * turn) judged by the caption judge, and as many of the Fashion prompts (classes in turn, seed + 1) judged by the
     * ViT: {share of scenes correct, share of Fashion correct}.
     */
    static double[] judged(TextToImageEval.Generator gen, NDManager m, CaptionJudging judge, ClassJudge vit) {
        List<String> scenes = oneSeen();
        int[] labels = new int[SAMPLES];
        List<String> fashion = fashionPrompts(labels);
        try (NDManager sub = m.newSubManager()) {
            double sceneAcc = share(judge.captionCorrect(sub, gen.generate(sub, scenes, SEED), scenes));
            NDArray clothes = gen.generate(sub, fashion, SEED + 1).mean(new int[] {1}, true);
            return new double[] {sceneAcc, vit.judge(sub, clothes).accuracy(labels)};
        }
    }

    public static void noisedClip(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 1000);
        Seeds.seed(SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            Clip.Config cfg = Clip.textToImage();
            NoisedClip clip = new NoisedClip(m, cfg, Tokenizer.textToImage(), SEED);
            String start = "clip_scenes.safetensors";
            Checkpoint.load(clip.clip, Course.checkpoint(start));
            GaussianDiffusion process = GlideLesson.process();
            List<CaptionedScenes.Scene> probe = new CaptionedScenes(SCENES_SEED).scenes(CaptionedScenes.Split.TEST, 500);
            int[] timesteps = {0, 250, 500, 750, 900};
            double[] before = new double[timesteps.length];
            for (int k = 0; k < timesteps.length; k++) before[k] = retrieval(clip, m, probe, process, timesteps[k]);
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            GlideLesson.trainNoisedClip(clip, process, pairs(), GlideLesson.noisedClipRegime(), steps, 1e9, SEED, log,
                    step -> progress("noisedClip", "loss", step, log, t0));
            long secs = Math.round((System.nanoTime() - t0) / 1e9);
            List<CheckpointInfo.NoisedClip.Retrieval> rows = new ArrayList<>();
            for (int k = 0; k < timesteps.length; k++) {
                rows.add(new CheckpointInfo.NoisedClip.Retrieval(timesteps[k], r(before[k], 4),
                        r(retrieval(clip, m, probe, process, timesteps[k]), 4)));
                System.out.println(rows.get(k));
            }
            String name = "noised_clip";
            save(clip, name, log);
            write(name, new CheckpointInfo.NoisedClip(cfg.name(), start, GlideLesson.noisedClipRegime().toString(),
                    clip.parameterCount(), log.size(), secs, TrainCheckpoint.threads(), r(log.tailMean("loss", 100), 4), SEED, probe.size(), rows,
                    "./course train noisedClip " + steps));
        }
    }

    /**
     * Image → text top-1 over the scenes' canonical captions, each scene noised to timestep {@code t} (fixed noise):
     * right when the best caption is the scene's own (or an identical one).
     */
    static double retrieval(NoisedClip clip, NDManager m, List<CaptionedScenes.Scene> scenes, GaussianDiffusion process, int t) {
        try (NDManager sub = m.newSubManager()) {
            List<String> captions = scenes.stream().map(CaptionedScenes.Scene::canonicalCaption).toList();
            NDArray x0 = LatentDiffusion.toSigned(CaptionedScenes.images(sub, scenes));
            NDArray ts = sub.full(new Shape(scenes.size()), t, DataType.INT64);
            NDArray xt = process.qSample(x0, ts, NoiseSource.seeded(new Random(SEED)).sample(sub, x0.getShape()));
            return ClipScores.ownCaptionTop1(clip.embedNoised(xt, ts), clip.embedTexts(sub, captions), captions);
        }
    }

    /**
     * {@code ./course train glideInpaint [steps=800] [from=glide_p2]}: the inpainting model fine-tuned from the shipped
     * GLIDE FROM (glide_p2 at 2×2 patches, the GLIDE of notebook 06, or glide at 4×4).
     */
    public static void inpainting(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 800);
        String from = args.length > 1 ? args[1] : "glide_p2";
        Glide.Config config = switch (from) {
            case "glide_p2" -> Glide.coursePatch2();
            case "glide" -> Glide.course();
            default -> throw new IllegalArgumentException("glideInpaint starts from glide_p2 or glide, not " + from);
        };
        Seeds.seed(SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            Glide base = new Glide(m, config, SEED);
            String start = from + ".safetensors";
            Checkpoint.load(base, Course.checkpoint(start));
            Glide model = GlideLesson.inpaintingFrom(base, m);
            MetricsLog log = new MetricsLog();
            Ema ema = new Ema(model, GlideLesson.EMA_DECAY);
            long t0 = System.nanoTime();
            GlideLesson.train(model, GlideLesson.process(), pairs(), GlideLesson.inpaintingRegime(), steps, 1e9, SEED, log, ema,
                    step -> progress("glideInpaint", "mse", step, log, t0));
            long secs = Math.round((System.nanoTime() - t0) / 1e9);
            ema.copyTo(model);
            CheckpointInfo.GlideInpaint.Edits edits = edits(model, base, m, CaptionJudging.shipped(m));
            System.out.println(edits);
            String name = "glide_inpaint";
            save(model, name, log);
            write(name, new CheckpointInfo.GlideInpaint(model.config.name(), start, GlideLesson.inpaintingRegime().toString(),
                    model.parameterCount(), log.size(), secs, TrainCheckpoint.threads(), r(log.tailMean("mse", 100), 5), GlideLesson.EMA_DECAY,
                    SEED, edits, "./course train glideInpaint " + (args.length > 0 ? String.join(" ", args) : String.valueOf(steps))));
        }
    }

    /** Recolouring edits of test scenes (right half erased) with the inpainting model and with the base model + pasting. */
    static CheckpointInfo.GlideInpaint.Edits edits(Glide model, Glide base, NDManager m, CaptionJudging judge) {
        List<GlideLesson.Edit> edits = GlideLesson.recolourRight(new CaptionedScenes(SCENES_SEED), CaptionedScenes.Split.TEST, SAMPLES);
        int size = model.config.imageSize();
        int[][] rects = new int[edits.size()][];
        for (int i = 0; i < rects.length; i++) rects[i] = new int[] {size / 2, 0, size - size / 2, size};
        List<String> captions = edits.stream().map(GlideLesson.Edit::caption).toList();
        try (NDManager sub = m.newSubManager()) {
            NDArray images = CaptionedScenes.images(sub, edits.stream().map(GlideLesson.Edit::original).toList());
            NDArray keep = GlideLesson.rectangleMasks(sub, size, rects);
            NDArray filled = GlideLesson.inpaint(model, sub, images, keep, captions, EDIT_SCALE, DDIM_STEPS, SEED);
            NDArray pasted = GlideLesson.inpaint(base, sub, images, keep, captions, EDIT_SCALE, DDIM_STEPS, SEED);
            double outside = filled.sub(images).abs().mul(keep).max().getFloat();
            return new CheckpointInfo.GlideInpaint.Edits(edits.size(), EDIT_SCALE, DDIM_STEPS,
                    r(share(judge.captionCorrect(sub, filled, captions)), 4), r(share(judge.captionCorrect(sub, pasted, captions)), 4),
                    outside);
        }
    }

    /** Fashion-MNIST training images with sampled captions and scenes of the training split. */
    static ClipLesson.Pairs pairs() {
        return ClipLesson.Pairs.withScenes(FashionMnist.train(), new CaptionedScenes(SCENES_SEED), SEED);
    }

    static void progress(String name, String key, int step, MetricsLog log, long t0) {
        if (step % 100 == 0 || step == 10) {
            System.out.printf("%s step %d  %s %.4f  %.1f s%n", name, step, key, log.tailMean(key, 100), (System.nanoTime() - t0) / 1e9);
        }
    }

    static void save(Module model, String name, MetricsLog log) throws Exception {
        Path dir = TrainCheckpoint.checkpointDir();
        Path file = dir.resolve(name + ".safetensors");
        Checkpoint.save(model, file);
        log.writeCsv(dir.resolve(name + "-log.csv"));
        System.out.printf("saved %s (%d bytes)%n", file, Files.size(file));
    }

    static void write(String name, CheckpointInfo.Info info) throws Exception {
        CheckpointInfo.write(TrainCheckpoint.checkpointDir().resolve(name + ".json"), info);
        System.out.print(CheckpointInfo.toJson(info));
    }


    static double share(boolean[] b) {
        int k = 0;
        for (boolean x : b) if (x) k++;
        return k / (double) b.length;
    }

    static double r(double x, int digits) {
        return CheckpointInfo.round(x, digits);
    }
}
