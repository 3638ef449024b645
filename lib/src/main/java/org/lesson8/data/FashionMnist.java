package org.lesson8.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST (Xiao, Rasul &amp; Vollgraf 2017, MIT licence): 60,000 training and 10,000 test images,
 * 28×28 grey levels, 10 classes. Read from the official IDX files ({@code *.gz}).
 *
 * <p>Where the files are looked for: only in {@code $FASHION_MNIST_DIR} when it is set (a missing folder or file there
 * is an error, never a reason to read another copy); otherwise, in order, {@code data/fashion-mnist}
 * of the project ({@code $LESSON8_HOME/data/fashion-mnist} or relative to the working directory and
 * its parents), and {@code /usr/share/datasets/fashion-mnist} (Debian's {@code dataset-fashion-mnist}).
 *
 * <p>Each file is verified by the SHA-256 of its <em>decompressed</em> content, so the official
 * archives and Debian's re-compressed copies are both accepted, while a truncated or altered file
 * is refused with a message naming it.
 */
public final class FashionMnist {
    public static final int SIZE = 28;
    public static final int PIXELS = SIZE * SIZE;
    public static final List<String> CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** Japanese class names for plot labels. */
    public static final List<String> CLASSES_JA = List.of(
            "Tシャツ/トップ", "ズボン", "プルオーバー", "ドレス", "コート",
            "サンダル", "シャツ", "スニーカー", "バッグ", "アンクルブーツ");

    /** SHA-256 of the decompressed IDX content, and its length. */
    static final Map<String, String> SHA256 = new LinkedHashMap<>();
    static final Map<String, Long> LENGTH = new LinkedHashMap<>();

    static {
        SHA256.put("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888");
        SHA256.put("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9");
        SHA256.put("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b");
        SHA256.put("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34");
        LENGTH.put("train-images-idx3-ubyte.gz", 47040016L);
        LENGTH.put("train-labels-idx1-ubyte.gz", 60008L);
        LENGTH.put("t10k-images-idx3-ubyte.gz", 7840016L);
        LENGTH.put("t10k-labels-idx1-ubyte.gz", 10008L);
    }

    public static final String FIX_COMMAND = "./course setup";

    /** One split: images as bytes (n × 784, row-major) and labels 0..9. */
    public static final class Split {
        public final byte[] images;
        public final byte[] labels;
        public final int size;
        public final String name;

        Split(String name, byte[] images, byte[] labels) {
            this.name = name;
            this.images = images;
            this.labels = labels;
            this.size = labels.length;
        }

        public int label(int i) {
            return labels[i];
        }

        /** Pixel values of image i in [0, 1]. */
        public float[] image(int i) {
            float[] v = new float[PIXELS];
            for (int k = 0; k < PIXELS; k++) v[k] = (images[i * PIXELS + k] & 0xff) / 255f;
            return v;
        }

        /** A subset given by indices (e.g. 10% of the training data). */
        public Split subset(int[] idx) {
            byte[] im = new byte[idx.length * PIXELS];
            byte[] lb = new byte[idx.length];
            for (int j = 0; j < idx.length; j++) {
                System.arraycopy(images, idx[j] * PIXELS, im, j * PIXELS, PIXELS);
                lb[j] = labels[idx[j]];
            }
            return new Split(name + "[subset " + idx.length + "]", im, lb);
        }

        /** Images idx as an NDArray (n, 1, 28, 28) in [0, 1] (or normalised with mean/std if given). */
        public NDArray images(NDManager m, int[] idx) {
            float[] v = new float[idx.length * PIXELS];
            for (int j = 0; j < idx.length; j++) {
                int base = idx[j] * PIXELS;
                for (int k = 0; k < PIXELS; k++) v[j * PIXELS + k] = (images[base + k] & 0xff) / 255f;
            }
            return m.create(v, new Shape(idx.length, 1, SIZE, SIZE));
        }

        /**
         * Images idx as (n, 1, 28, 28) in [0, 1], each shifted by a random offset of up to {@code maxShift} pixels
         * in x and y (zero padding) and, when {@code flip}, mirrored horizontally with probability 1/2.
         */
        public NDArray augmented(NDManager m, int[] idx, int maxShift, boolean flip, Random rng) {
            float[] v = new float[idx.length * PIXELS];
            for (int j = 0; j < idx.length; j++) {
                int base = idx[j] * PIXELS;
                int dx = maxShift > 0 ? rng.nextInt(2 * maxShift + 1) - maxShift : 0;
                int dy = maxShift > 0 ? rng.nextInt(2 * maxShift + 1) - maxShift : 0;
                boolean mirror = flip && rng.nextBoolean();
                for (int y = 0; y < SIZE; y++) {
                    int sy = y + dy;
                    if (sy < 0 || sy >= SIZE) continue;
                    for (int x = 0; x < SIZE; x++) {
                        int sx = (mirror ? SIZE - 1 - x : x) + dx;
                        if (sx < 0 || sx >= SIZE) continue;
                        v[j * PIXELS + y * SIZE + x] = (images[base + sy * SIZE + sx] & 0xff) / 255f;
                    }
                }
            }
            return m.create(v, new Shape(idx.length, 1, SIZE, SIZE));
        }

        public NDArray labels(NDManager m, int[] idx) {
            int[] v = new int[idx.length];
            for (int j = 0; j < idx.length; j++) v[j] = labels[idx[j]];
            return m.create(v);
        }

        public int[] labelArray() {
            int[] v = new int[size];
            for (int i = 0; i < size; i++) v[i] = labels[i];
            return v;
        }
    }

    private FashionMnist() {}

    private static Split trainCache;
    private static Split testCache;

    public static synchronized Split train() {
        if (trainCache == null) trainCache = load("train", locate());
        return trainCache;
    }

    public static synchronized Split test() {
        if (testCache == null) testCache = load("t10k", locate());
        return testCache;
    }

    /** Candidate directories when {@code FASHION_MNIST_DIR} is not set, in the order they are searched. */
    public static List<Path> candidates() {
        List<Path> c = new ArrayList<>();
        String home = System.getenv("LESSON8_HOME");
        if (home != null && !home.isBlank()) c.add(Paths.get(home, "data", "fashion-mnist"));
        Path p = Paths.get("").toAbsolutePath();
        while (p != null) {
            Path d = p.resolve("data").resolve("fashion-mnist");
            if (!c.contains(d)) c.add(d);
            p = p.getParent();
        }
        c.add(Paths.get("/usr/share/datasets/fashion-mnist"));
        return c;
    }

    /**
     * The folder to read: {@code $FASHION_MNIST_DIR} when set (it must hold all four files: a folder the user names is
     * never passed over for another copy), else the first candidate directory holding all four files.
     */
    public static Path locate() {
        return locate(System.getenv("FASHION_MNIST_DIR"), candidates());
    }

    static Path locate(String named, List<Path> candidates) {
        if (named != null && !named.isBlank()) {
            Path d = Paths.get(named);
            if (!Files.isDirectory(d)) {
                throw new DataError("FASHION_MNIST_DIR is set to " + d + ", which " + (Files.exists(d) ? "is not a folder" : "does not exist")
                        + ". Fix: point FASHION_MNIST_DIR at the folder that holds the four files (" + String.join(", ", SHA256.keySet())
                        + "), or unset it to use data/fashion-mnist (`" + FIX_COMMAND + "` puts them there).");
            }
            List<String> missing = SHA256.keySet().stream().filter(f -> !Files.isRegularFile(d.resolve(f))).toList();
            if (!missing.isEmpty()) {
                throw new DataError("FASHION_MNIST_DIR is set to " + d + ", but " + String.join(", ", missing)
                        + (missing.size() == 1 ? " is" : " are") + " missing there. Fix: put the four files (" + String.join(", ", SHA256.keySet())
                        + ") in " + d + ", or unset FASHION_MNIST_DIR to use data/fashion-mnist (`" + FIX_COMMAND + "` puts them there).");
            }
            return d;
        }
        List<Path> tried = candidates;
        for (Path d : tried) {
            boolean all = true;
            for (String f : SHA256.keySet()) all &= Files.isRegularFile(d.resolve(f));
            if (all) return d;
        }
        StringBuilder sb = new StringBuilder("Fashion-MNIST was not found. Looked for the four files (")
                .append(String.join(", ", SHA256.keySet())).append(") in:\n");
        for (Path d : tried) sb.append("  ").append(d).append('\n');
        sb.append("Fix: run `").append(FIX_COMMAND).append("` in the project folder (it installs Debian's "
                + "dataset-fashion-mnist or downloads the official files into data/fashion-mnist), or set "
                + "FASHION_MNIST_DIR to a folder that holds them.");
        throw new DataError(sb.toString());
    }

    /** Reads and verifies one split from a directory. */
    public static Split load(String prefix, Path dir) {
        byte[] img = readVerified(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
        byte[] lab = readVerified(dir.resolve(prefix + "-labels-idx1-ubyte.gz"));
        int n = readInt(lab, 4);
        if (readInt(img, 0) != 2051 || readInt(lab, 0) != 2049 || readInt(img, 4) != n) {
            throw new DataError("IDX headers of " + dir + "/" + prefix + "-* are inconsistent; re-run `" + FIX_COMMAND + "`");
        }
        byte[] images = new byte[n * PIXELS];
        System.arraycopy(img, 16, images, 0, images.length);
        byte[] labels = new byte[n];
        System.arraycopy(lab, 8, labels, 0, n);
        return new Split(prefix.equals("t10k") ? "test" : "train", images, labels);
    }

    /** Decompresses a file and checks its SHA-256; any failure names the file and the fix. */
    public static byte[] readVerified(Path file) {
        String name = file.getFileName().toString();
        String expected = SHA256.get(name);
        if (expected == null) throw new IllegalArgumentException("not a Fashion-MNIST file: " + name);
        if (!Files.isRegularFile(file)) {
            throw new DataError("Missing data file " + file + ". Fix: run `" + FIX_COMMAND + "`.");
        }
        byte[] data;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            ByteArrayOutputStream bos = new ByteArrayOutputStream((int) (long) LENGTH.get(name));
            in.transferTo(bos);
            data = bos.toByteArray();
        } catch (IOException e) {
            throw new DataError("Data file " + file + " is corrupt (cannot be decompressed: " + e.getMessage()
                    + "). Fix: delete it and run `" + FIX_COMMAND + "`.", e);
        }
        String actual = sha256(data);
        if (!actual.equals(expected)) {
            throw new DataError("Data file " + file + " is corrupt: SHA-256 of its content is " + actual
                    + " but should be " + expected + ". Fix: delete it and run `" + FIX_COMMAND + "`.");
        }
        return data;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }
}
