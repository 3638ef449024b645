package org.lesson8.course;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class CheckTest {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private PrintStream old;

    @BeforeEach
    void capture() {
        old = System.out;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(old);
    }

    private String out() {
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rightWrongAndPendingAnswers() {
        assertTrue(Check.result("a", () -> new double[] {1, 2}, new double[] {1, 2.0000001}, 1e-6));
        assertTrue(out().contains("✅ 正解 (correct): a"));
        assertFalse(Check.result("b", () -> new double[] {1, 3}, new double[] {1, 2}, 1e-6));
        assertTrue(out().contains("❌ 不正解 (not yet): b — index 1"), out());
        assertFalse(Check.result("c", () -> { throw Check.todo(); }, new double[] {1}, 1e-6));
        assertTrue(out().contains("⏳ 未回答 (not answered yet): c"));
        assertFalse(Check.result("d", () -> new double[] {1}, new double[] {1, 2}, 1e-6));
        assertTrue(out().contains("要素数が違います"));
        assertFalse(Check.result("e", () -> new double[] {Double.NaN}, new double[] {1}, 1e-6)); // NaN is never close
        Check.equal("f", () -> new int[] {1, 2}, new int[] {1, 3});
        assertTrue(out().contains("❌ 不正解 (not yet): f"));
        Check.that("g", () -> { throw new IllegalStateException("boom"); }, "hint");
        assertTrue(out().contains("例外が発生しました (exception): java.lang.IllegalStateException: boom"));
    }

    @Test
    void modesParseAndPick() {
        assertEquals(Mode.FAST, Mode.parse("fast"));
        assertEquals(Mode.DEFAULT, Mode.parse(null));
        assertEquals(Mode.FULL, Mode.parse(" FULL "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Mode.parse("quick"));
        assertTrue(e.getMessage().contains("fast, default or full"));
        assertEquals(3, Mode.FULL.pick(1, 2, 3));
    }
}
