package org.lesson8.tools;

import org.lesson8.train.ClassifierTraining;
import org.lesson8.eval.ClassifierEval;
import org.lesson8.lessons.ImageGptLesson;
import org.lesson8.lessons.DitLesson;
import org.lesson8.lessons.ClipLesson;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.course.Course;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Clip;
import org.lesson8.models.Dit;
import org.lesson8.models.ImageGpt;
import org.lesson8.lessons.ImageGptLesson;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.Vae;
import org.lesson8.models.SmallCnn;
import org.lesson8.models.Vit;
import org.lesson8.nn.Module;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.Seeds;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code ./course bench}: throughput of the library's hot paths against the machine's own fp32
 * matmul throughput, and a native-memory soak. Every figure is the median of several runs with
 * min and max. Writes target/bench/benchmark.md and benchmark.csv.
 * <p>
 * The last rows compare glibc's allocator settings (the kernel's, the earlier kernel's, glibc's defaults) on ViT
 * inference at batch 500 and training, each run in a child JVM: images/s, minor page faults and peak RSS.
 * {@code java … org.lesson8.tools.Benchmark alloc [rounds]} runs only those; {@code … soak [warm-up]} only the soak.
 */
public final class Benchmark {
    private Benchmark() {}

    record Row(String what, String unit, double median, double min, double max, String note) {}

    private static final List<Row> rows = new ArrayList<>();

    /** Timed training steps per run (after a warm-up of a few steps). */
    static final int STEPS = 10;

    static Row add(String what, String unit, double[] runs, String note) {
        double[] s = runs.clone();
        Arrays.sort(s);
        Row r = new Row(what, unit, s[s.length / 2], s[0], s[s.length - 1], note);
        rows.add(r);
        System.out.printf(Locale.ROOT, "%-58s %12.1f %-10s (min %.1f, max %.1f) %s%n", what, r.median, unit, r.min, r.max, note);
        return r;
    }

    /** fp32 GFLOP/s of an n×n matmul through DJL (10 products per run). */
    static double[] matmul(NDManager m, int n, int runs) {
        double[] out = new double[runs];
        try (NDManager sub = m.newSubManager()) {
            NDArray a = sub.randomNormal(new Shape(n, n));
            NDArray b = sub.randomNormal(new Shape(n, n));
            a.matMul(b).close();
            for (int r = 0; r < runs; r++) {
                long t = System.nanoTime();
                for (int i = 0; i < 10; i++) a.matMul(b).close();
                out[r] = 10 * 2.0 * n * (double) n * n / ((System.nanoTime() - t) / 1e9) / 1e9;
            }
        }
        return out;
    }

    /** The memory the JVM has committed for its heap and its own non-heap areas (class data, JIT code), in MB. */
    static double heapCommittedMb() {
        var mx = java.lang.management.ManagementFactory.getMemoryMXBean();
        return (mx.getHeapMemoryUsage().getCommitted() + mx.getNonHeapMemoryUsage().getCommitted()) / 1048576.0;
    }

    static long rssKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", ""));
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Training images/s of a classifier at batch 128 (runs × steps each, after warm-up). */
    static double[] trainRate(NDManager m, FashionMnist.Split train, boolean vit, Vit.Config cfg, int runs, int steps) {
        double[] out = new double[runs];
        try (NDManager sub = m.newSubManager()) {
            Module model = vit ? new Vit(sub, cfg, 1) : new SmallCnn(sub, 1);
            var regime = vit ? ClassifierTraining.Regime.vit() : ClassifierTraining.Regime.cnn();
            ClassifierTraining.train(model, train, regime, 5, 1e9, 1, new MetricsLog(), null); // warm-up
            for (int r = 0; r < runs; r++) {
                long t = System.nanoTime();
                ClassifierTraining.train(model, train, regime, steps, 1e9, r, new MetricsLog(), null);
                out[r] = steps * regime.batch() / ((System.nanoTime() - t) / 1e9);
            }
        }
        return out;
    }

    static double[] inferRate(NDManager m, FashionMnist.Split test, Vit.Config cfg, int runs) {
        double[] out = new double[runs];
        try (NDManager sub = m.newSubManager()) {
            Vit v = new Vit(sub, cfg, 1);
            ClassifierEval.evaluate(v, sub, test, 1000);
            for (int r = 0; r < runs; r++) {
                long t = System.nanoTime();
                ClassifierEval.evaluate(v, sub, test, 3000);
                out[r] = 3000 / ((System.nanoTime() - t) / 1e9);
            }
        }
        return out;
    }

    /** Minor page faults of this process so far (field 10 of /proc/self/stat, all threads), or -1 where unreadable. */
    static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");   // fields from 3 on (the name may hold spaces)
            return Long.parseLong(f[7]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * glibc's allocator settings that the allocator rows compare, each in a child JVM of its own: the settings this
     * process was started with (those of the kernel: {@code course} sets the same in launch.sh and for its Java tools),
     * the earlier kernel setting (tensors over 16 MB in their own mappings) and glibc's defaults (nothing set).
     * A value null removes the variable.
     */
    record AllocSetting(String label, java.util.Map<String, String> env) {}

    static final List<String> MALLOC_VARS = List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_");

    static List<AllocSetting> allocSettings() {
        java.util.Map<String, String> defaults = new java.util.LinkedHashMap<>();
        for (String v : MALLOC_VARS) defaults.put(v, null);
        java.util.Map<String, String> old = new java.util.LinkedHashMap<>(defaults);
        old.putAll(java.util.Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "16777216", "MALLOC_TRIM_THRESHOLD_", "67108864"));
        return List.of(new AllocSetting("this process's (the kernel's): " + describeMalloc(System.getenv()), java.util.Map.of()),
                new AllocSetting("earlier kernel: " + describeMalloc(withEnv(old)), old),
                new AllocSetting("glibc defaults: " + describeMalloc(withEnv(defaults)), defaults));
    }

    static java.util.Map<String, String> withEnv(java.util.Map<String, String> changes) {
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        changes.forEach((k, v) -> { if (v == null) env.remove(k); else env.put(k, v); });
        return env;
    }

    static String describeMalloc(java.util.Map<String, String> env) {
        List<String> parts = new ArrayList<>();
        for (String v : MALLOC_VARS) {
            String x = env.get(v);
            if (x == null) continue;
            String shown = x.matches("\\d{7,}") && Long.parseLong(x) % 1048576 == 0 ? Long.parseLong(x) / 1048576 + " MB" : x;
            parts.add(v.replace("MALLOC_", "").replaceAll("_$", "").toLowerCase(Locale.ROOT).replace('_', ' ') + " " + shown);
        }
        return parts.isEmpty() ? "none set" : String.join(", ", parts);
    }

    /** Images inferred per child run (batches of 500, as {@link ClassifierEval}). */
    static final int ALLOC_IMAGES = 3000;

    /**
     * One child run ({@code Benchmark alloc-run}): ViT-Ti/4 inference on {@link #ALLOC_IMAGES} test images at batch
     * 500 after a warm-up, then ViT-Ti/4 training at batch 128; prints images/s, minor page faults per image, the
     * process's peak RSS after inference, and training images/s and faults per step.
     */
    static void allocRun(FashionMnist.Split train, FashionMnist.Split test) {
        try (NDManager m = NDManager.newBaseManager()) {
            Vit v = new Vit(m, Vit.fashionSmall(), 1);
            ClassifierEval.evaluate(v, m, test, 1000);   // warm-up: JIT, first allocations
            long f0 = minorFaults(), t0 = System.nanoTime();
            ClassifierEval.evaluate(v, m, test, ALLOC_IMAGES);
            double ips = ALLOC_IMAGES / ((System.nanoTime() - t0) / 1e9);
            double faults = (minorFaults() - f0) / (double) ALLOC_IMAGES;
            double hwm = ClipLesson.peakRssMb();   // MB
            var regime = ClassifierTraining.Regime.vit();
            ClassifierTraining.train(v, train, regime, 3, Double.POSITIVE_INFINITY, 1, new MetricsLog(), null);
            long f1 = minorFaults(), t1 = System.nanoTime();
            ClassifierTraining.train(v, train, regime, STEPS, Double.POSITIVE_INFINITY, 2, new MetricsLog(), null);
            double trainIps = STEPS * regime.batch() / ((System.nanoTime() - t1) / 1e9);
            double trainFaults = (minorFaults() - f1) / (double) STEPS;
            System.out.printf(Locale.ROOT, "ALLOC %.3f %.3f %.1f %.3f %.1f %.1f%n", ips, faults, hwm, trainIps, trainFaults, (double) ClipLesson.peakRssMb());
        }
    }

    /**
     * Inference and training of ViT-Ti/4 under each of {@link #allocSettings()}, every setting in a fresh child JVM
     * (same Java options and class path as this one), {@code rounds} rounds taken in turn (A B C A B C …) so that a
     * busy moment of the machine falls on all settings alike; median, min and max over the rounds.
     */
    static void allocRows(int rounds) throws IOException, InterruptedException {
        List<AllocSetting> settings = allocSettings();
        double[][][] res = new double[settings.size()][6][rounds];
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Benchmark.class.getName(), "alloc-run"));
        for (int r = 0; r < rounds; r++) {
            for (int s = 0; s < settings.size(); s++) {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                settings.get(s).env().forEach((k, v) -> { if (v == null) pb.environment().remove(k); else pb.environment().put(k, v); });
                Process p = pb.start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int rc = p.waitFor();
                String line = out.lines().filter(l -> l.startsWith("ALLOC ")).findFirst().orElseThrow(() ->
                        new IllegalStateException("allocator child run (" + String.join(" ", cmd) + ") exited " + rc + " without a result:\n" + out));
                String[] f = line.split(" ");
                for (int k = 0; k < 6; k++) res[s][k][r] = Double.parseDouble(f[k + 1]);
            }
        }
        String name = Vit.fashionSmall().name();
        for (int s = 0; s < settings.size(); s++) {
            add("inference " + name + ", batch 500, glibc malloc " + settings.get(s).label(), "images/s", res[s][0],
                    "(" + ALLOC_IMAGES + " images per run, " + rounds + " runs, settings in turn)");
            add("  minor page faults per inferred image", "faults", res[s][1], "");
            add("  peak RSS of the run after inference (VmHWM)", "MB", res[s][2], "");
            add("  train " + name + ", batch 128", "images/s", res[s][3], "");
            add("  minor page faults per training step", "faults", res[s][4], "");
        }
    }

    /** DiT on 7×7×4 latents: training examples/s and share of the matmul limit, DDIM sampling images/s at 50 and 250 steps. */
    static void ditRows(NDManager m, double matmulGflops, int runs) {
        Dit.Config cfg = Dit.fashion();
        try (NDManager sub = m.newSubManager()) {
            Dit dit = new Dit(sub, cfg, 1);
            Vae vae = new Vae(sub, Vae.fashion(), 1);
            LatentDiffusion ld = new LatentDiffusion(vae, dit);
            int n = 2048;
            Random rng = new Random(1);
            float[] mean = new float[n * 196];
            for (int i = 0; i < mean.length; i++) mean[i] = (float) rng.nextGaussian();
            float[] logVar = new float[n * 196];
            Arrays.fill(logVar, -4f);
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = i % 10;
            DitLesson.Latents lat = new DitLesson.Latents(mean, logVar, labels, new long[] {4, 7, 7});
            Recipe recipe = DitLesson.ditRecipe();
            int steps = STEPS;
            DitLesson.trainDit(ld, lat, recipe, 3, 1e9, 1, new MetricsLog(), null, null);   // warm-up
            double[] ips = new double[runs];
            for (int r = 0; r < runs; r++) {
                long t = System.nanoTime();
                DitLesson.trainDit(ld, lat, recipe, steps, 1e9, r, new MetricsLog(), null, null);
                ips[r] = steps * recipe.batch() / ((System.nanoTime() - t) / 1e9);
            }
            double flops = 3 * 2 * cfg.forwardMacs();
            add("train " + cfg.name() + ", batch " + recipe.batch(), "images/s", ips,
                    String.format("(%.2f steps/s)", ips[ips.length / 2] / recipe.batch()));
            add("  achieved share of matmul throughput", "%", Arrays.stream(ips).map(x -> 100 * x * flops / 1e9 / matmulGflops).toArray(),
                    String.format("(%.1f MFLOP/image)", flops / 1e6));
            int batch = 20;   // 2 images per class: keeps ./course bench within 15 minutes (batch 100: ~10 % more images/s)
            int[] y = new int[batch];
            for (int i = 0; i < batch; i++) y[i] = i % 10;
            for (int sampling : new int[] {50, 250}) {
                ld.sample(sub, Arrays.copyOf(y, 10), 4.0, 5, false, 0, null).close();
                double[] rate = new double[runs];
                for (int r = 0; r < rate.length; r++) {
                    long t = System.nanoTime();
                    ld.sample(sub, y, 4.0, sampling, false, r, null).close();
                    rate[r] = batch / ((System.nanoTime() - t) / 1e9);
                }
                add("sample DiT, DDIM " + sampling + " steps, guidance 4, batch " + batch, "images/s", rate, "(cond + uncond per step)");
            }
        }
    }

    /** Image GPT: training sequences/s and share of the limit; sampling with and without the key/value cache. */
    static void imageGptRows(NDManager m, double matmulGflops, int runs) {
        ImageGpt.Config cfg = ImageGpt.fashion();
        try (NDManager sub = m.newSubManager()) {
            ImageGpt model = new ImageGpt(sub, cfg, 1);
            int n = cfg.length();
            byte[] codes = new byte[512 * n];
            Random rng = new Random(2);
            for (int i = 0; i < codes.length; i++) codes[i] = (byte) rng.nextInt(cfg.vocab());
            Recipe recipe = ImageGptLesson.recipe();
            int steps = STEPS;
            ImageGptLesson.train(model, codes, recipe, 3, 1e9, 1, new MetricsLog(), null);
            double[] sps = new double[runs];
            for (int r = 0; r < runs; r++) {
                long t = System.nanoTime();
                ImageGptLesson.train(model, codes, recipe, steps, 1e9, r, new MetricsLog(), null);
                sps[r] = steps * recipe.batch() / ((System.nanoTime() - t) / 1e9);
            }
            double l = n, d = cfg.dim();
            double macs = cfg.depth() * (l * (4 * d * d + 2 * d * cfg.mlp()) + 2 * l * l * d) + l * d * cfg.vocab();
            double flops = 3 * 2 * macs;
            add("train " + cfg.name() + ", batch " + recipe.batch(), "images/s", sps, "");
            add("  achieved share of matmul throughput", "%", Arrays.stream(sps).map(x -> 100 * x * flops / 1e9 / matmulGflops).toArray(),
                    String.format("(%.1f MFLOP/image)", flops / 1e6));
            double[] speedup = new double[Math.min(runs, 3)];
            double[] cachedRate = new double[speedup.length];
            for (int r = 0; r < speedup.length; r++) {
                ImageGptLesson.Timing t = ImageGptLesson.benchmark(model, sub, 8, r);
                speedup[r] = t.speedup();
                cachedRate[r] = 8 / t.cachedSeconds();
            }
            add("sample Image GPT with KV cache, batch 8", "images/s", cachedRate, "");
            add("  speed-up of the KV cache over recomputing", "x", speedup, "(same samples)");
        }
    }

    /**
     * The soak: the live ViT of notebook 01 trained for {@code warmup} steps, then for {@code steps} more (10× the warm-up
     * in {@code ./course bench}); the process's resident memory (RSS, after a GC) after the warm-up and every tenth of
     * the way. The warm-up lets the JIT and the C heap settle (RSS rises over the first ~100–200 steps); after it RSS
     * stays within ~1 % without a trend when nothing leaks (with the kernel's allocator settings, which {@code course}
     * sets for this tool; glibc's defaults: ±4 %), while a native leak shows as RSS that keeps growing. The figure is the end against the warm-up.
     */
    static void soak(NDManager m, FashionMnist.Split train, int warmup, int steps) {
        try (NDManager sub = m.newSubManager()) {
            Vit v = new Vit(sub, Vit.fashionTiny(), 3);
            int total = warmup + steps;
            int every = steps / 10;
            double[] seen = new double[10];
            double[] heap = new double[10];
            double[] start = new double[2];
            // one training run (one optimizer, one schedule), sampled from inside: after a GC, at the end of the
            // warm-up and then every tenth of the rest
            ClassifierTraining.train(v, train, ClassifierTraining.Regime.vitShort(), total, 1e9, 3, new MetricsLog(), step -> {
                if (step < warmup || (step - warmup) % every != 0) return;
                System.gc();
                int i = (step - warmup) / every;
                if (i == 0) {
                    start[0] = rssKb() / 1024.0;
                    start[1] = heapCommittedMb();
                } else {
                    seen[i - 1] = rssKb() / 1024.0;
                    heap[i - 1] = heapCommittedMb();
                }
            });
            double end = seen[seen.length - 1];
            java.util.function.Function<double[], String> list = a -> Arrays.stream(a).mapToObj(x -> String.format("%.0f", x))
                    .collect(java.util.stream.Collectors.joining(" "));
            System.out.printf("soak: JVM-committed memory %.0f MB after warm-up, then %s MB%n", start[1], list.apply(heap));
            add("soak: RSS after warm-up (" + warmup + " steps of " + Vit.fashionTiny().name() + ", batch 128)", "MB",
                    new double[] {start[0]}, "");
            add("soak: RSS during " + steps + " more steps (10 samples)", "MB", seen,
                    "(every " + every + " steps: " + list.apply(seen) + ", each after a GC)");
            add("soak: RSS at the end against after warm-up", "%", new double[] {100.0 * (end - start[0]) / start[0]},
                    "(target: within ±5 %)");
        }
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        int runs = 3;   // the library part is the same for ./course bench and ./course bench quick
        Seeds.seed(1);
        String cpu = "unknown";
        for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (l.startsWith("model name")) { cpu = l.substring(l.indexOf(':') + 1).trim(); break; }
        }
        String machine = String.format("%d cores (%s), Java %s, DJL %s, %s %s, threads %s", Runtime.getRuntime().availableProcessors(),
                cpu, System.getProperty("java.version"), Engine.getDjlVersion(), Engine.getInstance().getEngineName(),
                Engine.getInstance().getVersion(), TrainCheckpoint.threads());
        System.out.println("machine: " + machine);
        FashionMnist.Split train = FashionMnist.train();
        FashionMnist.Split test = FashionMnist.test();
        try (NDManager m = NDManager.newBaseManager()) {
            if (args.length > 0 && args[0].equals("alloc-run")) {
                allocRun(train, test);
                return;
            }
            if (args.length > 0 && args[0].equals("alloc")) {
                allocRows(args.length > 1 ? Integer.parseInt(args[1]) : 3);
                return;
            }
            boolean soakOnly = args.length > 0 && args[0].equals("soak");
            int warmup = soakOnly && args.length > 1 ? Integer.parseInt(args[1]) : 200;
            soak(m, train, warmup, 10 * warmup);   // first, so that the other models' freed memory does not move its baseline
            if (soakOnly) return;
            Row mm = add("matmul 1024x1024 fp32 (the machine's limit)", "GFLOP/s", matmul(m, 1024, runs), "");
            add("matmul 256x256 fp32", "GFLOP/s", matmul(m, 256, runs), "");
            for (Vit.Config cfg : List.of(Vit.fashionSmall(), Vit.fashionTiny())) {
                double[] ips = trainRate(m, train, true, cfg, runs, STEPS);
                double flopsPerImage = 3 * 2 * cfg.forwardMacs(); // forward + backward ≈ 3× forward
                double[] frac = Arrays.stream(ips).map(x -> 100 * x * flopsPerImage / 1e9 / mm.median).toArray();
                add("train " + cfg.name() + ", batch 128", "images/s", ips, "");
                add("  achieved share of matmul throughput", "%", frac, String.format("(%.1f MFLOP/image)", flopsPerImage / 1e6));
                add("inference " + cfg.name() + ", batch 500", "images/s", inferRate(m, test, cfg, runs), "");
            }
            add("train SmallCnn, batch 128", "images/s", trainRate(m, train, false, null, runs, STEPS), "");
            ditRows(m, mm.median, runs);
            imageGptRows(m, mm.median, runs);
            double[] clip = new double[runs];
            for (int r = 0; r < runs; r++) {
                clip[r] = ClipLesson.benchmark(m, Clip.course(), ClipLesson.Regime.standard(), 5, 500).trainPairsPerSecond();
            }
            add("train CLIP (" + Clip.course().name() + "), batch " + ClipLesson.Regime.standard().batch(), "pairs/s", clip, "");
        }
        add("peak RSS of this benchmark process (VmHWM)", "MB", new double[] {ClipLesson.peakRssMb()}, "");
        allocRows(runs);   // child JVMs: this process's memory figures above are not touched
        Path dir = Course.home().resolve("target").resolve("bench");
        Files.createDirectories(dir);
        StringBuilder md = new StringBuilder("# Benchmark\n\nMachine: ").append(machine).append("\n\n| what | median | unit | min | max | note |\n|---|---:|---|---:|---:|---|\n");
        StringBuilder csv = new StringBuilder("what,unit,median,min,max,note\n");
        for (Row r : rows) {
            md.append(String.format("| %s | %.1f | %s | %.1f | %.1f | %s |\n", r.what.trim(), r.median, r.unit, r.min, r.max, r.note));
            csv.append(String.format("\"%s\",%s,%.3f,%.3f,%.3f,\"%s\"\n", r.what.trim(), r.unit, r.median, r.min, r.max, r.note));
        }
        Files.writeString(dir.resolve("benchmark.md"), md.toString(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("benchmark.csv"), csv.toString(), StandardCharsets.UTF_8);
        System.out.println("wrote " + dir.resolve("benchmark.md"));
    }
}
