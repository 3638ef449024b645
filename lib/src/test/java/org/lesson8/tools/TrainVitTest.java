package org.lesson8.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.course.Course;
import org.lesson8.models.Vit;
import org.lesson8.train.CheckpointInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainVitTest {
    @Test
    void continuationRegimesDifferFromTheFirstCycleWhereTheyShould() {
        assertEquals(2e-3f, TrainVit.Cycle.SCRATCH.regime.recipe().lr());
        assertTrue(TrainVit.Cycle.WARM_RESTART.regime.augment());
        assertTrue(TrainVit.Cycle.WARM_RESTART.regime.recipe().lr() < TrainVit.Cycle.SCRATCH.regime.recipe().lr());
        assertFalse(TrainVit.Cycle.NO_AUGMENTATION.regime.augment(), "this cycle trains on unshifted images");
        assertTrue(TrainVit.Cycle.NO_AUGMENTATION.regime.recipe().lr() < TrainVit.Cycle.WARM_RESTART.regime.recipe().lr());
        for (TrainVit.Cycle c : TrainVit.Cycle.values()) {
            assertTrue(TrainCheckpoint.find(c.command).isPresent(), c.command + " is a command of ./course train");
        }
    }

    @Test
    void theSoupAlternatesWarmRestartsAndCyclesWithoutAugmentationEachWithItsOwnSeed() {
        var plan = TrainVit.soupPlan(6000, 4, 45);
        assertEquals(4, plan.size());
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.WARM_RESTART, 6000, 45), plan.get(0));
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.NO_AUGMENTATION, 3000, 46), plan.get(1));
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.WARM_RESTART, 6000, 47), plan.get(2));
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.NO_AUGMENTATION, 3000, 48), plan.get(3));
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> TrainVit.soupPlan(6000, 1, 45));
        assertTrue(one.getMessage().contains("at least 2 ingredients"), one.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainVit.soupPlan(10, 4, 45));
    }

    @Test
    void aContinuationReadsTheChainThatTheJsonOfThePreviousCycleWrote(@TempDir Path dir) throws Exception {
        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> TrainVit.chainBefore(dir, "vitSoup"));
        assertTrue(missing.getMessage().contains("./course train vitSoup continues from")
                && missing.getMessage().contains("run ./course train vit first"), missing.getMessage());

        CheckpointInfo.Vit first = TrainVit.after(null, Vit.fashionSmall(), 305034, 18000, 128, 6027.4, 0.89604,
                "./course train vit 18000", null, null);
        assertEquals(1, first.cycles(), "a run from scratch is cycle 0 and uses seed 42");
        assertEquals(List.of(42L), first.seedPerCycle());
        CheckpointInfo.write(dir.resolve("vit_fashion.json"), first);
        Files.writeString(dir.resolve("vit_fashion.safetensors"), "weights are not read here");

        CheckpointInfo.Vit before = TrainVit.chainBefore(dir, "vitWarmRestart");
        assertEquals(first, before);
        CheckpointInfo.Vit second = TrainVit.after(before, Vit.fashionSmall(), 305034, 12000, 128, 4000.2, 0.90461,
                "./course train vitWarmRestart 12000", null, null);
        assertEquals("./course train vit 18000 && ./course train vitWarmRestart 12000", second.command());
        assertEquals(30000, second.steps());
        assertEquals(6027 + 4000, second.trainSeconds());
        assertEquals(0.9046, second.testAccuracy());
        assertEquals(List.of(42L, 43L), second.seedPerCycle(), "the next cycle's seed follows the chain");
        assertEquals(2, second.cycles());
    }

    @Test
    void theShippedChainCountsItsSoupAsOneCycle() throws Exception {
        CheckpointInfo.Vit shipped = CheckpointInfo.read(Course.home().resolve("data/checkpoints/vit_fashion.json"),
                CheckpointInfo.Vit.class);
        assertEquals(4, shipped.cycles());
        assertEquals(shipped.seedPerCycle(), TrainVit.seeds(4));
        CheckpointInfo.Vit next = TrainVit.after(shipped, Vit.fashionSmall(), 305034, 100, 128, 10, 0.9,
                "./course train vitWarmRestart 100", null, null);
        assertEquals(List.of(42L, 43L, 44L, 45L, 46L), next.seedPerCycle());
        assertNull(next.soupIngredients(), "a cycle after the soup is no soup");
    }
}
