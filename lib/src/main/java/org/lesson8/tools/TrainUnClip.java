package org.lesson8.tools;

import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.eval.TextToImageEval;
import org.lesson8.lessons.ClipLesson;
import org.lesson8.lessons.GlideLesson;
import org.lesson8.lessons.UnClipLesson;
import org.lesson8.models.Clip;
import org.lesson8.models.Glide;
import org.lesson8.models.UnClipDecoder;
import org.lesson8.models.UnClipPrior;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

import static org.lesson8.tools.TrainGlide.SEED;
import static org.lesson8.tools.TrainGlide.SCENES_SEED;
import static org.lesson8.tools.TrainGlide.r;

/**
 * The unCLIP checkpoints of notebook 07, fixed seed 42, on the frozen scene CLIP ({@link UnClipLesson#CLIP_CHECKPOINT}):
 * <ul>
 *   <li>{@code ./course train unclipPrior [steps] [seconds]}: the diffusion prior ({@link UnClipPrior#course()}, EMA
 *   weights); its samples measured against the image embeddings of test scenes.</li>
 *   <li>{@code ./course train unclipDecoder [steps] [seconds] [from=glide]}: the decoder made from the GLIDE checkpoint
 *   FROM.safetensors ({@link UnClipLesson#decoderFrom}; its JSON says how that GLIDE was made) and fine-tuned on image
 *   embeddings; decoded real-image and text embeddings judged.</li>
 * </ul>
 */
public final class TrainUnClip {
    private TrainUnClip() {}

    /** The decoder's guidance scale in unclip_decoder.json (sampled as glide_p2.json's: {@link TrainGlide#samplerName}). */
    static final double DECODER_SCALE = 3;
    /** Test scenes of the prior's figures. */
    static final int PROBE_SCENES = 300;

    public static void prior(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 4000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        Seeds.seed(SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            Clip clip = UnClipLesson.clip(m);
            UnClipPrior prior = new UnClipPrior(m, UnClipPrior.course(), SEED);
            MetricsLog log = new MetricsLog();
            Ema ema = new Ema(prior, UnClipLesson.EMA_DECAY);
            long t0 = System.nanoTime();
            UnClipLesson.trainPrior(prior, clip, UnClipLesson.priorProcess(), TrainGlide.pairs(), UnClipLesson.priorRegime(), steps,
                    seconds, SEED, log, ema, step -> TrainGlide.progress("unclipPrior", "mse", step, log, t0));
            long secs = Math.round((System.nanoTime() - t0) / 1e9);
            ema.copyTo(prior);
            UnClipLesson.PriorSampling ps = UnClipLesson.PriorSampling.standard();
            List<CaptionedScenes.Scene> probe = new CaptionedScenes(SCENES_SEED).scenes(CaptionedScenes.Split.TEST, PROBE_SCENES);
            UnClipLesson.PriorQuality q = UnClipLesson.priorQuality(prior, clip, m, probe, ps, SEED);
            System.out.println(q);
            String name = "unclip_prior";
            TrainGlide.save(prior, name, log);
            TrainGlide.write(name, new CheckpointInfo.UnClipPrior(prior.config.name(), prior.config.toString(),
                    UnClipLesson.CLIP_CHECKPOINT, UnClipLesson.priorRegime().toString(), prior.parameterCount(), log.size(), secs,
                    TrainCheckpoint.threads(), r(log.tailMean("mse", 200), 5), UnClipLesson.EMA_DECAY, SEED, probe.size(), ps.steps(),
                    ps.scale(), r(q.priorCosine(), 4), r(q.textCosine(), 4), r(q.imageTop1(), 4), r(q.priorTop1(), 4),
                    "./course train unclipPrior " + steps));
        }
    }

    /**
     * {@code ./course train unclipDecoder [steps=3000] [seconds] [from=glide_p2] [every=0] [fashion=24]}: the decoder made from
     * FROM.safetensors (glide_p2 at 2×2 patches, or glide at 4×4) and fine-tuned; every {@code every} steps (0: only at
     * the end) its EMA weights are written as unclip_decoder, so that a stopped run leaves a usable checkpoint, with the
     * decoded real-image embeddings judged; at the end every source of {@link #decoderSamples} (the prior's when it is shipped).
     */
    public static void decoder(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 3000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        String from = args.length > 2 ? args[2] : "glide_p2";
        int every = TrainCheckpoint.intArg(args, 3, 0);
        ClipLesson.Regime regime = UnClipLesson.decoderRegime().withFashion(TrainCheckpoint.intArg(args, 4,
                UnClipLesson.decoderRegime().fashionPerBatch()));
        Glide.Config glideConfig = switch (from) {
            case "glide_p2" -> Glide.coursePatch2();
            case "glide" -> Glide.course();
            default -> throw new IllegalArgumentException("unclipDecoder starts from glide_p2 or glide, not " + from);
        };
        Seeds.seed(SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            Clip clip = UnClipLesson.clip(m);
            Glide glide = new Glide(m, glideConfig, 0);
            Checkpoint.load(glide, Course.checkpoint(from + ".safetensors"));
            CheckpointInfo.Glide glideInfo = CheckpointInfo.read(Course.checkpoint(from + ".json"), CheckpointInfo.Glide.class);
            String start = from + ".safetensors (GLIDE after " + glideInfo.steps() + " steps: " + glideInfo.command() + ")";
            UnClipDecoder decoder = UnClipLesson.decoderFrom(glide, m);
            UnClipDecoder sampler = new UnClipDecoder(m, decoder.config, decoder.tokenizer, 0);
            TextToImageEval.Judges judges = TextToImageEval.Judges.shipped(m);
            MetricsLog log = new MetricsLog();
            Ema ema = new Ema(decoder, UnClipLesson.EMA_DECAY);
            long t0 = System.nanoTime();
            String command = "./course train unclipDecoder " + (args.length > 0 ? String.join(" ", args) : String.valueOf(steps));
            IntConsumer snapshot = step -> {
                try {
                    ema.copyTo(sampler);
                    long secs = Math.round((System.nanoTime() - t0) / 1e9);
                    UnClipPrior prior = step == steps ? shippedPrior(m) : null;
                    List<CheckpointInfo.UnClipDecoder.Samples> samples = decoderSamples(sampler, clip, prior, judges, m,
                            step == steps ? List.of(UnClipLesson.Source.values()) : List.of(UnClipLesson.Source.IMAGE_EMBEDDING));
                    String name = "unclip_decoder";
                    TrainGlide.save(sampler, name, log);
                    TrainGlide.write(name, new CheckpointInfo.UnClipDecoder(sampler.config.name(), sampler.config.toString(), start,
                            UnClipLesson.CLIP_CHECKPOINT, regime + ", min-SNR gamma " + GlideLesson.MIN_SNR_GAMMA,
                            sampler.parameterCount(), step, secs, TrainCheckpoint.threads(), r(log.tailMean("mse", 200), 5),
                            UnClipLesson.EMA_DECAY, SEED, TrainGlide.samplerName(), samples, step == steps ? command : command + " (snapshot at step " + step + ")"));
                } catch (Exception e) {
                    throw new IllegalStateException("unclipDecoder: could not write the snapshot at step " + step, e);
                }
            };
            UnClipLesson.trainDecoder(decoder, clip, UnClipLesson.process(), TrainGlide.pairs(), regime, steps,
                    seconds, SEED, log, ema, TrainGlide.snapshotsEvery("unclipDecoder", steps, every, log, t0, snapshot));
            snapshot.accept(log.size());
        }
    }

    /** The shipped prior (unclip_prior.safetensors), or null when there is none. */
    static UnClipPrior shippedPrior(NDManager m) throws IOException {
        Path file = TrainCheckpoint.checkpointDir().resolve("unclip_prior.safetensors");
        if (!Files.exists(file)) return null;
        UnClipPrior prior = new UnClipPrior(m, UnClipPrior.course(), 0);
        Checkpoint.load(prior, file);
        return prior;
    }

    /**
     * The figures of unclip_decoder.json: for each of {@code sources} (PRIOR only with a prior), {@link TrainGlide#SAMPLES}
     * seen one-object and Fashion captions decoded at s = {@link #DECODER_SCALE} as glide_p2's are sampled, judged.
     */
    static List<CheckpointInfo.UnClipDecoder.Samples> decoderSamples(UnClipDecoder decoder, Clip clip, UnClipPrior prior,
                                                                     TextToImageEval.Judges judges, NDManager m,
                                                                     List<UnClipLesson.Source> sources) {
        List<CheckpointInfo.UnClipDecoder.Samples> samples = new ArrayList<>();
        for (UnClipLesson.Source source : sources) {
            if (source == UnClipLesson.Source.PRIOR && prior == null) continue;
            double[] acc = TrainGlide.judged(UnClipLesson.generator(decoder, clip, prior, source, UnClipLesson.PriorSampling.standard(),
                    DECODER_SCALE, TrainGlide.PATCH2_SAMPLING_STEPS), m, judges.scenes(), judges.fashion());
            samples.add(new CheckpointInfo.UnClipDecoder.Samples(source.label, DECODER_SCALE, TrainGlide.PATCH2_SAMPLING_STEPS,
                    TrainGlide.SAMPLES, r(acc[0], 4), TrainGlide.SAMPLES, r(acc[1], 4)));
            System.out.println(samples.get(samples.size() - 1));
        }
        return samples;
    }

    /**
     * {@code ./course train unclipJudge}: the shipped decoder and prior judged again, every source of
     * {@link UnClipLesson.Source} (the prior's row is unCLIP itself), as {@link #decoderSamples}; the samples of
     * unclip_decoder.json replaced, everything else kept.
     */
    public static void judge(String[] args) throws Exception {
        Path json = Course.checkpoint("unclip_decoder.json");
        CheckpointInfo.UnClipDecoder info = CheckpointInfo.read(json, CheckpointInfo.UnClipDecoder.class);
        try (NDManager m = NDManager.newBaseManager()) {
            Clip clip = UnClipLesson.clip(m);
            UnClipDecoder decoder = new UnClipDecoder(m, UnClipLesson.decoderConfig(), 0);
            Checkpoint.load(decoder, Course.checkpoint("unclip_decoder.safetensors"));
            UnClipPrior prior = shippedPrior(m);
            if (prior == null) throw new IllegalStateException("unclipJudge needs unclip_prior.safetensors: run ./course train unclipPrior first");
            List<CheckpointInfo.UnClipDecoder.Samples> samples = decoderSamples(decoder, clip, prior, TextToImageEval.Judges.shipped(m), m,
                    List.of(UnClipLesson.Source.values()));
            TrainGlide.write("unclip_decoder", info.withSamples(samples));
        }
    }
}
