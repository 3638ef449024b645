package org.lesson8.tools;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class TrainCheckpointTest {
    @Test
    void theUsageListsEveryCommandOfTheTableOnce() {
        String usage = TrainCheckpoint.usage();
        Set<String> names = new HashSet<>();
        for (TrainCheckpoint.Command c : TrainCheckpoint.COMMANDS) {
            assertTrue(names.add(c.name()), "two commands named " + c.name());
            assertTrue(usage.contains("  " + c.name() + " "), c.name() + " missing from:\n" + usage);
            assertTrue(usage.contains(c.description()), usage);
            assertSame(c, TrainCheckpoint.find(c.name()).orElseThrow());
        }
        assertTrue(TrainCheckpoint.find("vitMore2").isEmpty());
        for (String name : new String[] {"dvae", "dalle"}) {
            assertTrue(TrainCheckpoint.find(name).isPresent(), "notebook 05's command " + name + " is in the table");
        }
    }

    @Test
    void theCommandsOfTheShippedEvidenceOfNotebooks01And02AreInTheTable() {
        // vit_vs_cnn.csv, vit_p2.* and image_gpt-probe.csv name these commands (data/README.md)
        for (String name : new String[] {"vitVsCnn", "vitPatch2", "imageGptMore"}) {
            assertTrue(TrainCheckpoint.find(name).isPresent(), name);
            assertTrue(TrainCheckpoint.usage().contains("  " + name + " "), TrainCheckpoint.usage());
        }
        assertEquals(3, TrainVit.DATA_FRACTIONS.length);
        assertEquals(1.0, TrainVit.DATA_FRACTIONS[2]);
    }

    @Test
    void theGlideCommandsAreInTheTable() {
        for (String name : new String[] {"glide", "glidePatch2", "noisedClip", "glideInpaint"}) {
            assertTrue(TrainCheckpoint.find(name).isPresent(), name);
            assertTrue(TrainCheckpoint.usage().contains("  " + name + " "), TrainCheckpoint.usage());
        }
    }

    @Test
    void theFormerNamesOfTheRecordedViTChainStillRunTheirSteps() {
        assertEquals("vitWarmRestart", TrainCheckpoint.find("vitMore").orElseThrow().name());
        assertEquals("vitNoAugmentation", TrainCheckpoint.find("vitPolish").orElseThrow().name());
        assertTrue(TrainCheckpoint.usage().contains("vitMore = vitWarmRestart"), TrainCheckpoint.usage());
    }

    @Test
    void argumentsFallBackToTheDefaultsWhenLeftOut() {
        String[] args = {"12000"};
        assertEquals(12000, TrainCheckpoint.intArg(args, 0, 6000));
        assertEquals(4, TrainCheckpoint.intArg(args, 1, 4));
        assertEquals(1e9, TrainCheckpoint.doubleArg(args, 1, 1e9));
    }

    @Test
    void aCycleCanGiveFashionMoreOfEachBatchAndSaysWhatIsWrongOtherwise() {
        var base = org.lesson8.lessons.GlideLesson.continuationRegime();
        assertEquals(24, base.fashionPerBatch());
        var moreFashion = base.withFashion(32);
        assertEquals(32, moreFashion.fashionPerBatch());
        assertEquals(32, moreFashion.captionedPerBatch());
        assertEquals(base.recipe(), moreFashion.recipe());
        assertEquals(base, base.withFashion(24));
        for (int wrong : new int[] {-1, 65}) {
            var e = assertThrows(IllegalArgumentException.class, () -> base.withFashion(wrong));
            assertTrue(e.getMessage().contains("from 0 to 64, not " + wrong), e.getMessage());
        }
    }
}
