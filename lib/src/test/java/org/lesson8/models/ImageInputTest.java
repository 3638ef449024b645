package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.lesson8.NdTest;
import org.lesson8.eval.ClassJudge;
import org.lesson8.lessons.ClipLesson;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Images as integers or outside [0, 1] are refused by every classifier and image encoder, saying what is expected. */
class ImageInputTest extends NdTest {
    private static String refused(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void theVitRefusesIntegerAndByteScaledImagesAndSaysWhatItReads() {
        try (NDManager sub = m.newSubManager()) {
            Vit vit = new Vit(sub, new Vit.Config("test", 8, 2, 1, 16, 2, 2, 32, 3), 0);
            NDArray unit = sub.randomUniform(0, 1, new Shape(2, 1, 8, 8));
            NDArray bytes = unit.mul(255f).floor();
            refused(() -> vit.logits(bytes.toType(DataType.INT32, false)), "the ViT reads images as float32 in [0, 1] of shape (batch, 1, 8, 8)",
                    "got int32", "Nd.div(images.toType(DataType.FLOAT32, false), 255)");
            refused(() -> vit.logits(bytes.toType(DataType.UINT8, false)), "got uint8", "255) for bytes");
            refused(() -> vit.logits(bytes), "go up to 2", "(bytes 0–255?)", "divide them by 255");
            refused(() -> new ClassJudge(vit).judge(sub, bytes), "divide them by 255");
            refused(() -> vit.logits(unit.mul(2).sub(1).mul(0.99f)), "go down to", "map [-1, 1] to [0, 1]");
            refused(() -> vit.logits(unit.reshape(2, 8, 8)), "got (2, 8, 8)", "expandDims(1)");
            refused(() -> vit.logits(unit.toType(DataType.FLOAT64, false)), "got float64");
            assertEquals(new Shape(2, 3), vit.logits(unit).getShape());
            assertEquals(new Shape(2, 3), vit.logits(unit.mul(1.05f).sub(0.02f)).getShape(), "a sampler's small overshoot is accepted");
        }
    }

    @Test
    void clipZeroShotAndTheCaptionJudgeRefuseByteScaledImagesToo() {
        try (NDManager sub = m.newSubManager()) {
            Clip clip = ClipTest.tinyModel(sub, 3);
            NDArray unit = sub.randomUniform(0, 1, new Shape(2, 3, 8, 8));
            refused(() -> clip.embedImages(unit.mul(255f)), "CLIP's image encoder reads images as float32 in [0, 1] of shape (batch, 3 or 1, 8, 8)",
                    "divide them by 255");
            ZeroShot zs = ClipLesson.zeroShotFromTemplates(clip, sub, List.of("bag", "coat"), List.of("a photo of {}."));
            refused(() -> zs.logits(unit.mul(255f).toType(DataType.UINT8, false)), "got uint8", "255) for bytes");
            assertEquals(new Shape(2, 2), zs.logits(unit).getShape());
            assertEquals(new Shape(2, 2), zs.logits(unit.get(":, :1")).getShape(), "grey images are replicated to RGB");

            CaptionJudge judge = new CaptionJudge(sub, CaptionJudge.scenes(), 0);
            NDArray scenes = sub.randomUniform(0, 1, new Shape(1, 3, 28, 28));
            refused(() -> judge.forward(scenes.mul(255f)), "the caption judge reads images", "divide them by 255");
            refused(() -> judge.forward(sub.randomUniform(0, 1, new Shape(1, 3, 14, 14))), "(batch, 3, 28, 28)", "got (1, 3, 14, 14)");
            judge.forward(scenes);
        }
    }
}
