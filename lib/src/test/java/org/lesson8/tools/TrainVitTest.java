package org.lesson8.tools;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TrainVitTest {
    private static final String JSON = "{\n  \"model\": \"ViT-Ti/4 (Fashion-MNIST)\",\n  \"steps\": 18000,\n"
            + "  \"train_seconds\": 6027,\n  \"test_accuracy\": 0.8960,\n  \"command\": \"./course train vit 18000\"\n}\n";

    @Test
    void readsTheFieldsOfTheCheckpointJson() {
        assertEquals("18000", TrainVit.field(JSON, "steps"));
        assertEquals("6027", TrainVit.field(JSON, "train_seconds"));
        assertEquals("./course train vit 18000", TrainVit.field(JSON, "command"));
        assertEquals("ViT-Ti/4 (Fashion-MNIST)", TrainVit.field(JSON, "model"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainVit.field(JSON, "seed"));
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
    }
}
