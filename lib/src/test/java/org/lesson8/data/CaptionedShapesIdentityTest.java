package org.lesson8.data;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * CaptionedShapes draws with the rasteriser it shares with the captioned scenes: its images and captions must stay
 * bit for bit what they were before the rasteriser was shared (the shipped CLIP was trained on them). The hashes were
 * recorded from the code before the change.
 */
class CaptionedShapesIdentityTest {
    static String hash(CaptionedShapes g) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i < 20; i++) add(md, g.train(i));
        for (int i = 0; i < 10; i++) add(md, g.heldOut(i));
        for (int c = 0; c < 6; c++) for (int s = 0; s < 4; s++) add(md, g.render(c + s, c, s, (c + s) % 2, (c * 4 + s) % 5));
        return HexFormat.of().formatHex(md.digest());
    }

    private static void add(MessageDigest md, CaptionedShapes.Example e) {
        ByteBuffer b = ByteBuffer.allocate(4 * e.image().length);
        for (float v : e.image()) b.putInt(Float.floatToRawIntBits(v));
        md.update(b.array());
        md.update(e.caption().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void imagesAndCaptionsAreBitIdenticalToTheRecordedOnes() throws Exception {
        assertEquals("4700d070309317840343e8581d971f17a4681d2e18498c295b7c330046995942", hash(new CaptionedShapes(16, 7)));
        assertEquals("255c2cfb1dc7198c8d78745d2f0871d799e490c763aad8b18c0bfce143a397d0", hash(new CaptionedShapes(28, 42)));
        assertEquals("2c024597b17d3237c3f0f156189e653bc3d5758fa758755f43164768b91397bb", hash(new CaptionedShapes(32, 1)));
    }
}
