package org.lesson8.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import org.lesson8.course.Course;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SHA-256 of each checkpoint, recorded in the JSON of the run that made it: {@code NAME.json} has a field
 * <pre>  "sha256": {"NAME.safetensors": "64 hex digits"}</pre>
 * and a run that made more than one file lists them all there ({@code image_gpt.json} also lists
 * {@code image_gpt_bert.safetensors}). {@link Checkpoint#read} checks the hash of every file whose JSON records one
 * and refuses a damaged file, saying which file, both hashes and how to restore or retrain it; a file that no JSON
 * lists (a checkpoint of one's own, a temporary copy) is read unchecked. {@link CheckpointInfo#write} records the
 * hashes of the files that {@link Checkpoint#save} wrote in the same run, so every {@code ./course train} command
 * keeps them current; {@code ./course train rehash NAME} records a file's hash by hand (after a run of an older
 * version of the library, or after replacing a file on purpose).
 */
public final class CheckpointHashes {
    private CheckpointHashes() {}

    /** The JSON field that maps checkpoint file names to their SHA-256. */
    public static final String FIELD = "sha256";

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** Hashes of the files {@link Checkpoint#save} wrote in this JVM, by absolute path: what the run made. */
    private static final Map<Path, String> SAVED = new ConcurrentHashMap<>();

    /** The hash a JSON records for a checkpoint file, and the command recorded beside it (null when none). */
    public record Recorded(Path json, String sha256, String command) {}

    /** SHA-256 of a file's bytes, as 64 lower-case hex digits. */
    public static String sha256(Path file) throws IOException {
        MessageDigest d = digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int r; (r = in.read(buf)) > 0; ) d.update(buf, 0, r);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Remembers that this JVM wrote {@code file} with these bytes (called by {@link Checkpoint#save}). */
    static void saved(Path file, String sha256) {
        SAVED.put(file.toAbsolutePath().normalize(), sha256);
    }

    /** The {@value #FIELD} map of a JSON file (empty when it has none). */
    static Map<String, String> entries(Path json) throws IOException {
        return entries(parse(json));
    }

    private static Map<String, String> entries(JsonObject o) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonElement field = o.get(FIELD);
        if (field != null && field.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : field.getAsJsonObject().entrySet()) {
                JsonElement v = e.getValue();
                out.put(e.getKey(), v.isJsonPrimitive() ? v.getAsString() : v.toString());   // a malformed entry fails the check
            }
        }
        return out;
    }

    private static JsonObject parse(Path json) throws IOException {
        try {
            JsonElement e = JsonParser.parseString(Files.readString(json, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) throw new JsonParseException("not a JSON object");
            return e.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException(json + " is not readable JSON (" + e.getMessage() + "): restore it with `git checkout -- "
                    + shown(json) + "`", e);
        }
    }

    /**
     * Where a checkpoint's hash is recorded: its own {@code NAME.json}, else the JSON beside it that lists it (the run
     * that made it). Empty when none records it.
     */
    public static Optional<Recorded> recorded(Path file) throws IOException {
        String name = file.getFileName().toString();
        Path dir = file.toAbsolutePath().getParent();
        Path own = dir.resolve(stem(name) + ".json");
        if (Files.isRegularFile(own)) return recordedIn(own, name);
        try (DirectoryStream<Path> jsons = Files.newDirectoryStream(dir, "*.json")) {
            List<Path> sorted = new ArrayList<>();
            jsons.forEach(sorted::add);
            sorted.sort(null);
            for (Path json : sorted) {
                try {
                    Optional<Recorded> r = recordedIn(json, name);
                    if (r.isPresent()) return r;
                } catch (IOException unreadable) {
                    // another file's JSON: it says nothing about this one
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Recorded> recordedIn(Path json, String name) throws IOException {
        JsonObject o = parse(json);
        String hash = entries(o).get(name);
        if (hash == null) return Optional.empty();
        JsonElement c = o.get("command");
        return Optional.of(new Recorded(json, hash, c != null && c.isJsonPrimitive() ? c.getAsString() : null));
    }

    /** Refuses a checkpoint whose bytes differ from the hash its JSON records; unrecorded files pass. */
    public static void verify(Path file) throws IOException {
        Optional<Recorded> r = recorded(file);
        if (r.isEmpty()) return;
        String actual = sha256(file);
        if (actual.equals(r.get().sha256())) return;
        String name = file.getFileName().toString();
        String jsonName = r.get().json().getFileName().toString();
        String command = r.get().command();
        throw new IOException("checkpoint " + shown(file) + " is damaged or was changed: its SHA-256 is\n  " + actual
                + "\nbut " + jsonName + " records\n  " + r.get().sha256() + "\nRestore the shipped file with `git checkout -- "
                + inProject(file) + "`" + (command == null ? "" : ", or retrain it with the command recorded in " + jsonName + ": "
                + command) + ". If you replaced it on purpose (your own training run), record its new hash with `./course train rehash "
                + stem(name) + (jsonName.equals(stem(name) + ".json") ? "" : " " + stem(jsonName)) + "`.");
    }

    /** A path as the user would type it in the project folder (data/checkpoints/...), else as it is. */
    static String shown(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path home = Course.home().toAbsolutePath().normalize();
        return abs.startsWith(home) ? home.relativize(abs).toString() : abs.toString();
    }

    /** The path to restore with git: the file's own under the project folder, else the shipped file of that name. */
    private static String inProject(Path file) {
        String shown = shown(file);
        return Paths.get(shown).isAbsolute() ? "data/checkpoints/" + file.getFileName() : shown;
    }

    private static String stem(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot < 0 ? fileName : fileName.substring(0, dot);
    }

    /**
     * The {@value #FIELD} map to write into {@code json} for a run whose files are {@code files} (names beside it): the
     * hash of each one this JVM saved; the recorded hash of the others (a run that re-measures a checkpoint without
     * writing it keeps its hash); for a file nobody recorded yet, its current hash. Entries for other files are kept.
     */
    static Map<String, String> forWrite(Path json, List<String> files) throws IOException {
        Map<String, String> out = Files.isRegularFile(json) ? entriesOrEmpty(json) : new LinkedHashMap<>();
        Path dir = json.toAbsolutePath().getParent();
        for (String f : files) {
            Path p = dir.resolve(f);
            String saved = SAVED.get(p.normalize());
            if (saved != null) out.put(f, saved);
            else if (!out.containsKey(f) && Files.isRegularFile(p)) out.put(f, sha256(p));
        }
        return out;
    }

    private static Map<String, String> entriesOrEmpty(Path json) {
        try {
            return entries(json);
        } catch (IOException | RuntimeException e) {
            return new LinkedHashMap<>();   // about to be overwritten
        }
    }

    /** JSON text with the {@value #FIELD} map added (or replaced) as the last field. */
    static String withEntries(JsonObject o, Map<String, String> entries) {
        o.remove(FIELD);
        if (!entries.isEmpty()) {
            JsonObject h = new JsonObject();
            entries.forEach(h::addProperty);
            o.add(FIELD, h);
        }
        return GSON.toJson(o) + "\n";
    }

    private static final Pattern FIELD_TEXT = Pattern.compile("\"" + FIELD + "\"\\s*:\\s*\\{[^{}]*\\}");

    /**
     * The JSON text with only its {@value #FIELD} map replaced, or added as the last field: the rest of a hand-formatted
     * file is left as it is.
     */
    static String withEntriesInText(Path json, String text, Map<String, String> entries) throws IOException {
        StringBuilder block = new StringBuilder("\"" + FIELD + "\": {");
        int i = 0;
        for (Map.Entry<String, String> e : entries.entrySet()) {
            block.append(i++ == 0 ? "\n" : ",\n").append("    ").append(GSON.toJson(e.getKey())).append(": ").append(GSON.toJson(e.getValue()));
        }
        block.append("\n  }");
        Matcher m = FIELD_TEXT.matcher(text);
        String out;
        if (m.find()) {
            out = text.substring(0, m.start()) + block + text.substring(m.end());
        } else {
            int end = text.lastIndexOf('}');
            String before = text.substring(0, end).stripTrailing();
            out = before + (before.endsWith("{") ? "\n  " : ",\n  ") + block + "\n" + text.substring(end);
        }
        JsonObject check;
        try {
            check = JsonParser.parseString(out).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IOException("could not add the " + FIELD + " field to " + shown(json) + " (" + e.getMessage() + ")", e);
        }
        if (!entries(check).equals(entries)) throw new IOException("could not add the " + FIELD + " field to " + shown(json));
        return out;
    }

    /**
     * {@code ./course train rehash NAME [JSON]}: records the current SHA-256 of {@code dir/NAME.safetensors} in
     * {@code NAME.json} (or in {@code JSON.json}, the JSON of the run that made it; by default the JSON that already
     * lists it). Returns the JSON file written.
     */
    public static Path rehash(Path dir, String name, String jsonName) throws IOException {
        String fileName = name.endsWith(".safetensors") ? name : name + ".safetensors";
        Path file = dir.resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw new IOException("rehash: " + shown(file) + " does not exist; the names are those of data/checkpoints/*.safetensors"
                    + " without .safetensors");
        }
        Path json;
        if (jsonName != null) {
            json = dir.resolve(jsonName.endsWith(".json") ? jsonName : jsonName + ".json");
        } else {
            Path own = dir.resolve(stem(fileName) + ".json");
            json = Files.isRegularFile(own) ? own : recorded(file).map(Recorded::json).orElse(own);
        }
        if (!Files.isRegularFile(json)) {
            throw new IOException("rehash: " + shown(json) + " does not exist and no JSON in " + shown(dir) + " lists " + fileName
                    + ": name the JSON of the run that made it, e.g. ./course train rehash image_gpt_bert image_gpt");
        }
        Map<String, String> entries = entries(json);
        String old = entries.put(fileName, sha256(file));
        Files.writeString(json, withEntriesInText(json, Files.readString(json, StandardCharsets.UTF_8), entries), StandardCharsets.UTF_8);
        System.out.printf("%s: %s%n  %s → %s%n", shown(json), fileName, old == null ? "(none)" : old, entries.get(fileName));
        return json;
    }
}
