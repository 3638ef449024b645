package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.lesson8.nn.Module;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model checkpoints as safetensors files: every parameter and buffer of a module under its dotted name.
 *
 * <p>Saving writes a temporary file and renames it, so a failed save never leaves a half-written
 * checkpoint. Loading first checks every name and shape against the model, and refuses a file that
 * does not match with a message naming the parameter; only then are values copied. A checkpoint whose JSON records its
 * SHA-256 is checked against it before it is read ({@link CheckpointHashes}): a damaged shipped file is refused with
 * what to do, instead of loading silently wrong weights.
 */
public final class Checkpoint {
    private Checkpoint() {}

    public static void save(Module model, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            NDList list = new NDList();
            for (Map.Entry<String, NDArray> e : model.state().entrySet()) {
                NDArray a = e.getValue().duplicate();
                a.setName(e.getKey());
                list.add(a);
            }
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                list.encode(out, NDList.Encoding.SAFETENSORS);
            } finally {
                list.close();
            }
            String sha256 = CheckpointHashes.sha256(tmp);
            try { // temp files are private (0600); a checkpoint is meant to be shared
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException | IOException ignored) {
                // not a POSIX file system
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            CheckpointHashes.saved(file, sha256);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads a checkpoint's arrays by name (in a manager the caller closes), after checking its recorded SHA-256. */
    public static Map<String, NDArray> read(NDManager m, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("checkpoint " + file + " does not exist; train it with the command listed in data/README.md (e.g. ./course train vit)");
        }
        CheckpointHashes.verify(file);
        NDList list;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            list = NDList.decode(m, in);
        } catch (RuntimeException e) {
            throw new IOException("checkpoint " + file + " is not a readable safetensors file: " + e.getMessage(), e);
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (NDArray a : list) out.put(a.getName(), a);
        return out;
    }

    /** Loads a checkpoint into a model after checking names and shapes. */
    public static void load(Module model, Path file) throws IOException {
        Map<String, NDArray> params = model.state();
        try (NDManager m = model.getManager().newSubManager()) {
            Map<String, NDArray> saved = read(m, file);
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray s = saved.get(e.getKey());
                if (s == null) {
                    problems.add("parameter '" + e.getKey() + "' " + e.getValue().getShape() + " is missing from the checkpoint");
                } else if (!s.getShape().equals(e.getValue().getShape())) {
                    problems.add("parameter '" + e.getKey() + "' has shape " + s.getShape() + " in the checkpoint but "
                            + e.getValue().getShape() + " in the model");
                }
            }
            for (String k : saved.keySet()) {
                if (!params.containsKey(k)) problems.add("the checkpoint has parameter '" + k + "' that the model does not have");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("checkpoint " + file.getFileName() + " does not match this model ("
                        + problems.size() + " problem(s)): " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                        + ". Build the model with the configuration the checkpoint was trained with.");
            }
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                e.getValue().set(saved.get(e.getKey()).toByteBuffer());
            }
        }
    }
}
