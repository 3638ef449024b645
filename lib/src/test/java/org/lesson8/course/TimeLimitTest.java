package org.lesson8.course;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** FAST mode (the tests) stops training by step count only: no test may depend on the machine's speed. */
class TimeLimitTest {
    @Test
    void fastModeHasNoTimeLimitTheOthersHaveTheirs() {
        assertEquals(Double.POSITIVE_INFINITY, Mode.FAST.timeLimit(60, 600));
        assertEquals(60, Mode.DEFAULT.timeLimit(60, 600));
        assertEquals(600, Mode.FULL.timeLimit(60, 600));
        var e = assertThrows(IllegalArgumentException.class, () -> Mode.DEFAULT.timeLimit(0, 600));
        assertTrue(e.getMessage().contains("positive seconds"), e.getMessage());
    }

    /** A seconds budget picked per mode, e.g. {@code double liveSeconds = course.pick(60.0, 120.0, 600.0)}. */
    static final Pattern PICKED_SECONDS = Pattern.compile("[Ss]econds\\w*\\s*=\\s*course\\.pick\\(|course\\.pick\\(\\s*Double\\.POSITIVE_INFINITY");
    /** A finite number of seconds written straight into a training call: {@code train(…, steps, 60.0, course.seed, …)}. */
    static final Pattern LITERAL_SECONDS = Pattern.compile("\\.train\\w*\\([^;]*,\\s*(\\d+\\.\\d*|\\d+(\\.\\d*)?e\\d+)\\s*,\\s*course\\.seed");

    @Test
    void notebooksTakeTheirTimeLimitsFromCourseTimeLimit() throws IOException {
        Path dir = Course.home().resolve("notebooks");
        List<String> bad = new ArrayList<>();
        int cells = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path nb : files.filter(p -> p.getFileName().toString().matches("\\d\\d_.*\\.ipynb")).sorted().toList()) {
                JsonObject root = JsonParser.parseString(Files.readString(nb, StandardCharsets.UTF_8)).getAsJsonObject();
                for (JsonElement c : root.getAsJsonArray("cells")) {
                    JsonObject cell = c.getAsJsonObject();
                    if (!cell.get("cell_type").getAsString().equals("code")) continue;
                    cells++;
                    JsonElement src = cell.get("source");
                    String code = src.isJsonArray() ? String.join("", src.getAsJsonArray().asList().stream().map(JsonElement::getAsString).toList())
                            : src.getAsString();
                    for (Pattern p : List.of(PICKED_SECONDS, LITERAL_SECONDS)) {
                        Matcher m = p.matcher(code);
                        while (m.find()) bad.add(nb.getFileName() + " cell " + cell.get("id") + ": " + m.group());
                    }
                }
            }
        }
        assertTrue(cells > 50, "notebooks found in " + dir + ": " + cells + " code cells");
        assertTrue(bad.isEmpty(), "a training time limit must come from course.timeLimit(default, full), which has none in "
                + "FAST mode (the tests stop by step count, never by the machine's speed):\n  " + String.join("\n  ", bad));
    }
}
