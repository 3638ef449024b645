package org.lesson8.tools;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

class TrainImageGptTest {
    private static final String JSON = "{\n  \"steps\": 1033,\n  \"completions_vit\": null,\n"
            + "  \"sampling_benchmark\": {\"identical\": true},\n  \"command\": \"./course train imageGpt 1500 1500 1000\"\n}\n";

    @Test
    void judgeReplacesOnlyTheCompletionsEntry() throws IOException {
        String entry = "{\"images\": 200, \"completion_label_agreement\": 0.6650, \"command\": \"./course train imageGpt judge\"}";
        String out = TrainImageGpt.withCompletions(JSON, entry);
        assertEquals(JSON.replace("\"completions_vit\": null", "\"completions_vit\": " + entry), out);
        // running it again replaces the measured entry, it does not add a second one
        String again = TrainImageGpt.withCompletions(out, "null");
        assertEquals(JSON, again);
    }

    @Test
    void judgeRefusesAJsonWithoutTheEntryBeforeDoingAnyWork() {
        IOException e = assertThrows(IOException.class,
                () -> TrainImageGpt.withCompletions(JSON.replace("  \"completions_vit\": null,\n", ""), "null"));
        assertTrue(e.getMessage().contains("completions_vit") && e.getMessage().contains("./course train imageGpt"), e.getMessage());
    }
}
