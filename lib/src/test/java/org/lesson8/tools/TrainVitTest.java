package org.lesson8.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.models.Vit;

import java.nio.file.Files;
import java.nio.file.Path;

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

    @Test
    void countsTheCyclesOfTheCommandChainAndNamesOneSeedPerCycle() {
        assertEquals(1, TrainVit.cyclesIn("./course train vit 18000"));
        assertEquals(3, TrainVit.cyclesIn("./course train vit 18000 && ./course train vitMore 12000 && ./course train vitPolish 6000"));
        assertEquals("42", TrainVit.seedFields(1));
        String three = "{\"seed\": " + TrainVit.seedFields(3) + "}";
        assertEquals("{\"seed\": 42, \"seed_per_cycle\": [42, 43, 44]}", three);
        assertEquals("42", TrainVit.field(three, "seed"));
    }

    @Test
    void continuationRecipesDifferFromTheFirstCycleWhereTheyShould() {
        assertEquals(2e-3f, TrainVit.Cycle.SCRATCH.recipe.lr());
        assertTrue(TrainVit.Cycle.MORE.recipe.augment());
        assertTrue(TrainVit.Cycle.MORE.recipe.lr() < TrainVit.Cycle.SCRATCH.recipe.lr());
        assertFalse(TrainVit.Cycle.POLISH.recipe.augment(), "the last cycle trains on unshifted images");
        assertTrue(TrainVit.Cycle.POLISH.recipe.lr() < TrainVit.Cycle.MORE.recipe.lr());
        assertEquals("vitPolish", TrainVit.Cycle.POLISH.command);
    }

    @Test
    void theSoupAlternatesWarmRestartsAndCyclesWithoutAugmentationEachWithItsOwnSeed() {
        var plan = TrainVit.soupPlan(6000, 4, 45);
        assertEquals(4, plan.size());
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.MORE, 6000, 45), plan.get(0));
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.POLISH, 3000, 46), plan.get(1));
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.MORE, 6000, 47), plan.get(2));
        assertEquals(new TrainVit.Ingredient(TrainVit.Cycle.POLISH, 3000, 48), plan.get(3));
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> TrainVit.soupPlan(6000, 1, 45));
        assertTrue(one.getMessage().contains("at least 2 ingredients"), one.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainVit.soupPlan(10, 4, 45));
        // the soup is one more command of the chain: the next cycle's seed follows it
        assertEquals(5, TrainVit.cyclesIn("./course train vit 18000 && ./course train vitMore 12000"
                + " && ./course train vitMore 12000 && ./course train vitSoup 6000 4 && ./course train vitMore 100"));
    }

    @Test
    void aContinuationReadsTheChainThatTheJsonOfThePreviousCycleWrote(@TempDir Path dir) throws Exception {
        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> TrainVit.chainBefore(dir, "vitSoup"));
        assertTrue(missing.getMessage().contains("./course train vitSoup continues from")
                && missing.getMessage().contains("run ./course train vit first"), missing.getMessage());
        String json = TrainVit.json(Vit.fashionSmall(), 305034, 3, 42000, 128, 14572.4, 0.90754,
                "./course train vit 18000 && ./course train vitMore 12000 && ./course train vitMore 12000",
                ",\n  \"soup_ingredients\": [\n    {\"cycle\": \"vitMore\", \"steps\": 6000, \"test_accuracy\": 0.9107}]");
        Files.writeString(dir.resolve("vit_fashion.json"), json);
        Files.writeString(dir.resolve("vit_fashion.safetensors"), "weights are not read here");
        TrainVit.Chain chain = TrainVit.chainBefore(dir, "vitSoup");
        assertEquals(new TrainVit.Chain("./course train vit 18000 && ./course train vitMore 12000 && ./course train vitMore 12000",
                42000, 14572, "0.9075"), chain, "top-level fields win over the ingredients' fields of the same name");
        assertEquals(3, chain.cycles());
        assertEquals(0, TrainVit.Chain.NONE.cycles(), "a run from scratch is cycle 0 and uses seed 42");
        assertTrue(json.contains("\"seed\": 42, \"seed_per_cycle\": [42, 43, 44]"), json);
    }
}
