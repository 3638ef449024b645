package org.lesson8.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.data.CaptionedScenes.Scene;
import org.lesson8.data.CaptionedScenes.Split;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ScenesTest {
    private final CaptionedScenes scenes = new CaptionedScenes(42);

    @Test
    void aSceneDependsOnlyOnSeedSplitAndIndex() {
        for (Split split : Split.values()) {
            Scene a = scenes.scene(split, 123), b = new CaptionedScenes(42).scene(split, 123);
            assertArrayEquals(a.image(), b.image(), split.name());
            assertEquals(a.caption(), b.caption(), split.name());
            assertEquals(a.attributes(), b.attributes(), split.name());
        }
        assertFalse(java.util.Arrays.equals(scenes.scene(Split.TRAIN, 5).image(), scenes.scene(Split.TEST, 5).image()));
        assertFalse(java.util.Arrays.equals(scenes.scene(Split.TRAIN, 5).image(), new CaptionedScenes(43).scene(Split.TRAIN, 5).image()));
        SceneAttributes a = SceneAttributes.two(0, 0, SceneAttributes.VERTICAL, 2, 1);
        assertArrayEquals(scenes.render(a, 3).image(), scenes.render(a, 3).image());
        assertFalse(java.util.Arrays.equals(scenes.render(a, 3).image(), scenes.render(a, 4).image()));
    }

    @Test
    void trainingAndTestScenesNeverShowAHeldOutCombination() {
        Set<String> heldPairs = Set.of("red triangle", "green cross", "blue circle", "yellow square");
        Set<String> seenObjects = new HashSet<>(), seenPairs = new HashSet<>();
        int two = 0;
        for (Split split : List.of(Split.TRAIN, Split.TEST)) {
            for (int i = 0; i < 10000; i++) {
                SceneAttributes a = scenes.scene(split, i).attributes();
                assertFalse(heldPairs.contains(a.object1()), a.toString());
                seenObjects.add(a.object1());
                if (a.objects() == 2) {
                    two++;
                    assertFalse(heldPairs.contains(a.object2()), a.toString());
                    assertFalse(CaptionedScenes.HELD_OUT_PAIRS.contains(Set.of(a.object1(), a.object2())), a.toString());
                    seenPairs.add(a.object1() + " / " + a.object2());
                }
            }
        }
        assertEquals(20, seenObjects.size(), "every seen colour-shape pair occurs");
        assertTrue(two > 9000 && two < 11000, "about half the scenes have two objects: " + two);
        assertEquals(allowedOrderedPairs(heldPairs), seenPairs.size(), "two-object scenes cover every allowed object pair in both orders");
        for (Set<String> pair : CaptionedScenes.HELD_OUT_PAIRS) {
            for (String object : pair) assertTrue(seenObjects.contains(object), object + " of a held-out pair is seen in training");
            List<String[]> p = pair.stream().map(o -> o.split(" ")).toList();
            assertNotEquals(p.get(0)[0], p.get(1)[0], "colours differ in " + pair);
            assertNotEquals(p.get(0)[1], p.get(1)[1], "shapes differ in " + pair);
        }
    }

    /** Ordered pairs of seen objects that differ in colour and shape and are not a held-out pair. */
    private static int allowedOrderedPairs(Set<String> heldPairs) {
        int n = 0;
        for (String c1 : CaptionedShapes.COLOURS) for (String s1 : CaptionedShapes.SHAPES)
            for (String c2 : CaptionedShapes.COLOURS) for (String s2 : CaptionedShapes.SHAPES) {
                String o1 = c1 + " " + s1, o2 = c2 + " " + s2;
                if (!c1.equals(c2) && !s1.equals(s2) && !heldPairs.contains(o1) && !heldPairs.contains(o2)
                        && !CaptionedScenes.HELD_OUT_PAIRS.contains(Set.of(o1, o2))) n++;
            }
        return n;
    }

    @Test
    void heldOutScenesShowOnlyHeldOutCombinations() {
        Set<String> heldPairs = CaptionedShapes.HELD_OUT;
        int pairScenes = 0, objectScenes = 0;
        for (int i = 0; i < 2000; i++) {
            SceneAttributes one = scenes.scene(Split.HELD_OUT_ONE, i).attributes();
            assertEquals(1, one.objects());
            assertTrue(heldPairs.contains(one.object1()), one.toString());
            SceneAttributes two = scenes.scene(Split.HELD_OUT_TWO, i).attributes();
            assertEquals(2, two.objects());
            boolean pair = CaptionedScenes.HELD_OUT_PAIRS.contains(Set.of(two.object1(), two.object2()));
            boolean object = heldPairs.contains(two.object1()) || heldPairs.contains(two.object2());
            assertTrue(pair || object, two.toString());
            if (pair) pairScenes++;
            if (object) objectScenes++;
            assertTrue(CaptionedScenes.isHeldOut(scenes.scene(Split.HELD_OUT, i).attributes()));
        }
        assertTrue(pairScenes > 800 && objectScenes > 800, pairScenes + " held-out object pairs, " + objectScenes + " with a held-out object");
    }

    @Test
    void everyPhrasingOfEveryScenePassesBackToItsAttributes() {
        int captions = 0;
        for (int c = 0; c < 6; c++) for (int s = 0; s < 4; s++) {
            for (int z = 0; z < 2; z++) for (int p = 0; p < 5; p++) captions += roundTrip(SceneAttributes.one(c, s, z, p));
            for (int c2 = 0; c2 < 6; c2++) for (int s2 = 0; s2 < 4; s2++) {
                if (c2 != c && s2 != s) for (int axis = 0; axis < 2; axis++) captions += roundTrip(SceneAttributes.two(c, s, axis, c2, s2));
            }
        }
        assertEquals(SceneCaptions.allCaptions().size(), captions);
        assertEquals(captions, new HashSet<>(SceneCaptions.allCaptions()).size(), "no two scenes share a caption");
        for (Split split : Split.values()) {
            for (int i = 0; i < 300; i++) {
                Scene e = scenes.scene(split, i);
                assertEquals(e.attributes(), SceneCaptions.parse(e.caption()), e.caption());
                assertEquals(e.attributes(), SceneCaptions.parse(e.canonicalCaption()), e.canonicalCaption());
            }
        }
        assertEquals("a small red circle on the left.", SceneCaptions.canonical(SceneAttributes.one(0, 0, 0, 0)));
        assertEquals(CaptionedShapes.caption(3, 2, 1, 4), SceneCaptions.canonical(SceneAttributes.one(3, 2, 1, 4)));
        assertEquals(SceneAttributes.one(0, 0, 1, 4), SceneCaptions.parse("There is a BIG red circle in the middle"));
    }

    private static int roundTrip(SceneAttributes a) {
        List<String> p = SceneCaptions.phrasings(a);
        for (String caption : p) assertEquals(a, SceneCaptions.parse(caption), caption);
        return p.size();
    }

    @Test
    void aRelationAndItsMirrorAreTheSameSceneAndSwappedColoursAreNot() {
        SceneAttributes left = SceneCaptions.parse("a red circle to the left of a blue square.");
        assertEquals(SceneAttributes.two(0, 0, SceneAttributes.HORIZONTAL, 2, 1), left);
        assertEquals(left, SceneCaptions.parse("a blue square to the right of a red circle."));
        assertNotEquals(left, SceneCaptions.parse("a blue circle to the left of a red square."));
        assertNotEquals(left, SceneCaptions.parse("a blue square to the left of a red circle."));
        SceneAttributes above = SceneCaptions.parse("a green cross above a yellow triangle.");
        assertEquals(SceneAttributes.two(1, 3, SceneAttributes.VERTICAL, 3, 2), above);
        for (String same : List.of("a green cross over a yellow triangle.", "a yellow triangle below a green cross.",
                "there is a yellow triangle under a green cross.")) {
            assertEquals(above, SceneCaptions.parse(same), same);
        }
    }

    @Test
    void badCaptionsAreRefusedWithWhatIsWrong() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SceneCaptions.parse("a red zebra to the left of a blue square."));
        assertTrue(unknown.getMessage().contains("unknown word 'zebra'"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("circle, cross"), "lists the vocabulary: " + unknown.getMessage());
        for (String empty : new String[] {"", "   ", null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SceneCaptions.parse(empty));
            assertTrue(e.getMessage().startsWith("empty caption"), e.getMessage());
        }
        String longOne = "a red circle to the left of a blue square and a green cross above a yellow triangle.";
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> SceneCaptions.parse(longOne));
        assertTrue(tooLong.getMessage().contains("at most " + SceneCaptions.MAX_WORDS), tooLong.getMessage());
        for (String malformed : List.of("a red circle to the of a blue square.", "a red circle above blue square.",
                "a red circle left of a blue square.", "a red circle above a red square.", "a red circle above a blue circle.",
                "a red circle above a blue square on the left.")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SceneCaptions.parse(malformed), malformed);
            assertTrue(e.getMessage().contains(SceneCaptions.GRAMMAR), "shows the grammar: " + e.getMessage());
        }
        IllegalArgumentException noSize = assertThrows(IllegalArgumentException.class, () -> SceneCaptions.parse("a red circle on the left."));
        assertTrue(noSize.getMessage().contains("needs a size"), noSize.getMessage());
        assertTrue(SceneCaptions.GRAMMAR.contains("RELATION = to the left of | to the right of | above | over | below | under"),
                SceneCaptions.GRAMMAR);
    }

    @Test
    void theTextToImageVocabularyCoversScenesAndFashionAndTheCourseVocabularyIsUnchanged() {
        Tokenizer t = Tokenizer.textToImage();
        for (String c : SceneCaptions.allCaptions()) assertEquals(c, t.decode(t.encode(c, SceneCaptions.MAX_WORDS + 2)));
        for (String c : FashionCaptions.allCaptions()) assertEquals(c, t.decode(t.encode(c, 16)));
        assertEquals(SceneCaptions.vocabulary().size() + 3 + fashionOnlyWords(), t.size());
        Tokenizer course = Tokenizer.course();
        assertEquals(COURSE_VOCABULARY, course.vocabulary().size(), "the shipped CLIP's vocabulary");
        assertThrows(IllegalArgumentException.class, () -> course.encode("a tiny red circle on the left.", 16));
    }

    /** Words of Tokenizer.course() when the scenes were added (the vocabulary of the shipped CLIP). */
    private static final int COURSE_VOCABULARY = 60;

    private static int fashionOnlyWords() {
        Set<String> w = new HashSet<>();
        for (String c : FashionCaptions.allCaptions()) w.addAll(Tokenizer.split(c));
        w.removeAll(SceneCaptions.vocabulary());
        return w.size();
    }

    @Test
    void imagesShowTheObjectsWhereTheAttributesSay() {
        try (NDManager m = NDManager.newBaseManager()) {
            List<Scene> list = scenes.scenes(Split.TRAIN, 5);
            NDArray x = CaptionedScenes.images(m, list);
            assertEquals(new Shape(5, 3, 28, 28), x.getShape());
            assertTrue(x.min().getFloat() >= 0 && x.max().getFloat() <= 1);
        }
        int n = CaptionedScenes.SIZE;
        float[] red = {0.9f, 0.15f, 0.15f}, blue = {0.2f, 0.35f, 0.95f}, green = {0.15f, 0.8f, 0.2f}, yellow = {0.95f, 0.9f, 0.15f};
        float[] left = scenes.render(SceneAttributes.two(0, 0, SceneAttributes.HORIZONTAL, 2, 1), 0).image();
        assertTrue(count(left, red, 0, n / 2, 0, n) > 20 && count(left, red, n / 2, n, 0, n) == 0, "red on the left");
        assertTrue(count(left, blue, n / 2, n, 0, n) > 20 && count(left, blue, 0, n / 2, 0, n) == 0, "blue on the right");
        float[] above = scenes.render(SceneAttributes.two(1, 3, SceneAttributes.VERTICAL, 3, 2), 0).image();
        assertTrue(count(above, green, 0, n, 0, n / 2) > 20 && count(above, green, 0, n, n / 2, n) == 0, "green above");
        assertTrue(count(above, yellow, 0, n, n / 2, n) > 20 && count(above, yellow, 0, n, 0, n / 2) == 0, "yellow below");
    }

    /** Pixels of colour {@code rgb} (within the colour jitter) in columns x0..x1-1 and rows y0..y1-1. */
    private static int count(float[] img, float[] rgb, int x0, int x1, int y0, int y1) {
        int n = CaptionedScenes.SIZE, c = 0;
        for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) {
            boolean near = true;
            for (int k = 0; k < 3; k++) near &= Math.abs(img[k * n * n + y * n + x] - rgb[k]) <= 0.06f;
            if (near) c++;
        }
        return c;
    }
}
