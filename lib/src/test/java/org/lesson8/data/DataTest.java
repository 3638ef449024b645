package org.lesson8.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class DataTest {
    @Test
    void fashionMnistLoadsWithTheRightSizesAndLabels() {
        FashionMnist.Split test = FashionMnist.test();
        assertEquals(10000, test.size);
        int[] count = new int[10];
        for (int i = 0; i < test.size; i++) count[test.label(i)]++;
        for (int c : count) assertEquals(1000, c);
        float[] img = test.image(0);
        assertEquals(784, img.length);
        for (float v : img) assertTrue(v >= 0 && v <= 1);
    }

    @Test
    void corruptFileIsRefusedWithAMessageNamingItAndTheFix(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t10k-labels-idx1-ubyte.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f))) {
            o.write(new byte[] {0, 0, 8, 1, 0, 0, 0, 1, 3});
        }
        DataError e = assertThrows(DataError.class, () -> FashionMnist.readVerified(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        assertTrue(e.getMessage().contains("./course setup"), e.getMessage());
    }

    @Test
    void truncatedArchiveIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t10k-images-idx3-ubyte.gz");
        Files.write(f, new byte[] {31, (byte) 139, 8, 0, 1, 2});
        DataError e = assertThrows(DataError.class, () -> FashionMnist.readVerified(f));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void missingFileSaysWhatToRun(@TempDir Path dir) {
        DataError e = assertThrows(DataError.class, () -> FashionMnist.load("t10k", dir));
        assertTrue(e.getMessage().startsWith("Missing data file"), e.getMessage());
        assertTrue(e.getMessage().contains("./course setup"));
    }

    @Test
    void aNamedFolderIsUsedOrRefusedNeverPassedOverForAnotherCopy(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good");
        Files.createDirectories(good);
        for (String f : FashionMnist.SHA256.keySet()) Files.write(good.resolve(f), new byte[0]);
        List<Path> others = List.of(good);   // a complete copy elsewhere must not be taken instead

        DataError absent = assertThrows(DataError.class, () -> FashionMnist.locate(dir.resolve("nope").toString(), others));
        assertTrue(absent.getMessage().contains("FASHION_MNIST_DIR is set to " + dir.resolve("nope")), absent.getMessage());
        assertTrue(absent.getMessage().contains("does not exist"), absent.getMessage());

        Path partial = dir.resolve("partial");
        Files.createDirectories(partial);
        Files.write(partial.resolve("train-images-idx3-ubyte.gz"), new byte[0]);
        Files.write(partial.resolve("train-labels-idx1-ubyte.gz"), new byte[0]);
        Files.write(partial.resolve("t10k-images-idx3-ubyte.gz"), new byte[0]);
        DataError lacking = assertThrows(DataError.class, () -> FashionMnist.locate(partial.toString(), others));
        assertTrue(lacking.getMessage().contains("t10k-labels-idx1-ubyte.gz is missing there"), lacking.getMessage());
        assertTrue(lacking.getMessage().contains(partial.toString()), lacking.getMessage());

        assertEquals(good, FashionMnist.locate(good.toString(), List.of(partial)));
        assertEquals(good, FashionMnist.locate(null, List.of(partial, good)), "unset: the first complete candidate");
        assertEquals(good, FashionMnist.locate(" ", List.of(good)), "blank counts as unset");
    }

    @Test
    void tokenizerRoundTripAndEndPosition() {
        Tokenizer t = Tokenizer.course();
        String s = "a photo of a t-shirt.";
        int[] ids = t.encode(s, 12);
        assertEquals(Tokenizer.START_ID, ids[0]);
        assertEquals(7, Tokenizer.endPosition(ids)); // start a photo of a t-shirt . end
        assertEquals(Tokenizer.PAD_ID, ids[11]);
        assertEquals(s, t.decode(ids));
        for (String c : CaptionedShapes.allCaptions()) assertEquals(c, t.decode(t.encode(c, 16)));
        for (String c : FashionCaptions.allCaptions()) assertEquals(c, t.decode(t.encode(c, 16)));
    }

    @Test
    void tokenizerErrorsAreClear() {
        Tokenizer t = Tokenizer.course();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode("a photo of a zebra.", 16));
        assertTrue(e.getMessage().contains("'zebra'"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> t.encode("a photo of a t-shirt.", 5));
        assertTrue(e2.getMessage().contains("context length is 5"), e2.getMessage());
        int[] cut = t.encode("a photo of a t-shirt.", 5, true);
        assertEquals(Tokenizer.END_ID, cut[4]);
        assertEquals("a photo of", t.decode(cut));
    }

    @Test
    void shapesAreDeterministicAndHoldOutTheirPairs() {
        CaptionedShapes a = new CaptionedShapes(16, 7);
        CaptionedShapes b = new CaptionedShapes(16, 7);
        assertArrayEquals(a.train(123).image(), b.train(123).image());
        assertEquals(a.train(123).caption(), b.train(123).caption());
        assertNotEquals(a.train(1).caption() + a.train(2).caption(), new CaptionedShapes(16, 8).train(1).caption() + new CaptionedShapes(16, 8).train(2).caption());
        assertEquals(240, CaptionedShapes.allCaptions().size());
        assertEquals(240, new HashSet<>(CaptionedShapes.allCaptions()).size());
        assertEquals(200, CaptionedShapes.trainCaptions().size());
        assertEquals(40, CaptionedShapes.heldOutCaptions().size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 3000; i++) {
            CaptionedShapes.Example e = a.train(i);
            assertFalse(CaptionedShapes.HELD_OUT.contains(e.pair()), e.caption());
            seen.add(e.caption());
        }
        assertTrue(seen.size() >= 190, "training covers the train captions: " + seen.size());
        for (int i = 0; i < 200; i++) assertTrue(CaptionedShapes.HELD_OUT.contains(a.heldOut(i).pair()));
        // every colour and every shape still appears in training
        Set<Integer> colours = new HashSet<>(), shapes = new HashSet<>();
        for (int i = 0; i < 500; i++) { colours.add(a.train(i).colour()); shapes.add(a.train(i).shape()); }
        assertEquals(6, colours.size());
        assertEquals(4, shapes.size());
    }

    @Test
    void shapeImagesShowTheirColourWhereTheCaptionSays() {
        CaptionedShapes g = new CaptionedShapes(32, 1);
        CaptionedShapes.Example e = g.render(0, 0, 1, 1, 0); // large red square on the left
        int n = 32;
        double leftRed = 0, rightRed = 0;
        for (int y = 0; y < n; y++) for (int x = 0; x < n; x++) {
            float r = e.image()[y * n + x];
            if (x < n / 2) leftRed += r; else rightRed += r;
        }
        assertTrue(leftRed > 3 * rightRed, "left " + leftRed + " right " + rightRed);
        assertEquals("a large red square on the left.", e.caption());
    }

    @Test
    void captionsUseTheRightArticle() {
        assertEquals("a photo of an ankle boot.", FashionCaptions.prompt(9));
        assertEquals("a photo of a t-shirt.", FashionCaptions.prompt(0));
        assertTrue(FashionCaptions.allCaptions().size() > 100);
        assertEquals(List.of("a", "photo", "."), Tokenizer.split("A photo."));
    }
}
