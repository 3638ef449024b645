package org.lesson8.course;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.lesson8.train.Seeds;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The one call at the top of every notebook: {@code var course = Course.setup("01_vit");}
 * It reads the mode from {@code LESSON8_MODE} (fast / default / full), seeds Java and libtorch,
 * reports the thread count, and gives the notebook a manager, an RNG and a metrics file.
 */
public final class Course implements AutoCloseable {
    public final String notebook;
    public final Mode mode;
    public final long seed;
    public final Random rng;
    public final NDManager manager;
    private final Map<String, Double> metrics = new TreeMap<>();

    private Course(String notebook, Mode mode, long seed) {
        this.notebook = notebook;
        this.mode = mode;
        this.seed = seed;
        this.rng = Seeds.seed(seed);
        this.manager = NDManager.newBaseManager();
    }

    private static Course current;

    public static synchronized Course setup(String notebook) {
        return setup(notebook, 42);
    }

    public static synchronized Course setup(String notebook, long seed) {
        Locale.setDefault(Locale.ROOT);
        Mode mode = Mode.parse(System.getenv("LESSON8_MODE"));
        if (current != null) current.manager.close();
        current = new Course(notebook, mode, seed);
        String threads = System.getProperty("ai.djl.pytorch.num_threads", "(libtorch default)");
        System.out.printf("Lesson 8 course | notebook %s | mode %s | seed %d | %s %s | threads %s | max heap %d MB%n",
                notebook, mode, seed, Engine.getInstance().getEngineName(), Engine.getInstance().getVersion(), threads,
                Runtime.getRuntime().maxMemory() >> 20);
        return current;
    }

    /** The project folder ({@code LESSON8_HOME}, else the nearest parent with a pom.xml and notebooks/). */
    public static Path home() {
        String h = System.getenv("LESSON8_HOME");
        if (h != null && !h.isBlank()) return Paths.get(h);
        Path p = Paths.get("").toAbsolutePath();
        while (p != null) {
            if (Files.isDirectory(p.resolve("notebooks")) && Files.isRegularFile(p.resolve("pom.xml"))) return p;
            p = p.getParent();
        }
        return Paths.get("").toAbsolutePath();
    }

    /** A file under data/checkpoints (or under {@code $LESSON8_CHECKPOINTS}, to try other weights). */
    public static Path checkpoint(String name) {
        String dir = System.getenv("LESSON8_CHECKPOINTS");
        Path d = dir != null && !dir.isBlank() ? Paths.get(dir) : home().resolve("data").resolve("checkpoints");
        Path p = d.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("checkpoint " + p + " is missing: it ships with the project; "
                    + "restore it with `git checkout data/checkpoints` or retrain it with the command in data/README.md");
        }
        return p;
    }

    public <T> T pick(T fast, T dflt, T full) {
        return mode.pick(fast, dflt, full);
    }

    public int pick(int fast, int dflt, int full) {
        return mode.pick(fast, dflt, full);
    }

    public double pick(double fast, double dflt, double full) {
        return mode.pick(fast, dflt, full);
    }

    /** Seconds a live training cell may run: none in FAST mode (step counts only), else dflt / full; see {@link Mode#timeLimit}. */
    public double timeLimit(double dflt, double full) {
        return mode.timeLimit(dflt, full);
    }

    /** Records a key figure (measured, never typed in) and rewrites the notebook's metrics file. */
    public void metric(String name, double value) {
        metrics.put(name, value);
        writeMetrics();
    }

    private void writeMetrics() {
        String dir = System.getenv("LESSON8_METRICS_DIR");
        Path d = dir != null && !dir.isBlank() ? Paths.get(dir) : home().resolve("target").resolve("metrics").resolve(mode.name().toLowerCase());
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Double> e : metrics.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            double v = e.getValue();
            sb.append('"').append(e.getKey()).append("\": ").append(Double.isFinite(v) ? Double.toString(v) : "null");
        }
        sb.append("}\n");
        try {
            Files.createDirectories(d);
            Path tmp = d.resolve(notebook + ".json.tmp");
            Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
            Files.move(tmp, d.resolve(notebook + ".json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            System.err.println("could not write metrics to " + d + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
