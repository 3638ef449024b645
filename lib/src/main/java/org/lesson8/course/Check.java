package org.lesson8.course;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Exercise checks (演習): each prints one line at once, "✅ 正解" or "❌ 不正解" with the reason, or
 * "⏳ 未回答" while the exercise still throws {@link UnsupportedOperationException} ("TODO").
 * A check never throws, so a student can keep going; it returns whether the answer was right.
 */
public final class Check {
    private Check() {}

    /** Thrown by exercise skeletons until the student writes the answer. */
    public static RuntimeException todo() {
        return new UnsupportedOperationException("TODO: ここに答えを書いてください (write your answer here)");
    }

    public static void close(String name, Supplier<double[]> answer, double[] expected, double tol) {
        result(name, answer, expected, tol);
    }

    /** Like {@link #close} but returns whether the answer was right. */
    public static boolean result(String name, Supplier<double[]> answer, double[] expected, double tol) {
        double[] got;
        try {
            got = answer.get();
        } catch (UnsupportedOperationException e) {
            return pending(name);
        } catch (RuntimeException e) {
            return wrong(name, "例外が発生しました (exception): " + e);
        }
        if (got == null) return pending(name);
        if (got.length != expected.length) {
            return wrong(name, "要素数が違います (length " + got.length + ", expected " + expected.length + ")");
        }
        for (int i = 0; i < got.length; i++) {
            if (!(Math.abs(got[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
                return wrong(name, String.format("index %d: got %.6g, expected %.6g", i, got[i], expected[i]));
            }
        }
        return right(name);
    }

    public static void close(String name, Supplier<Double> answer, double expected, double tol) {
        result(name, () -> {
            Double v = answer.get();
            return v == null ? null : new double[] {v};
        }, new double[] {expected}, tol);
    }

    public static void equal(String name, Supplier<int[]> answer, int[] expected) {
        int[] got;
        try {
            got = answer.get();
        } catch (UnsupportedOperationException e) {
            pending(name);
            return;
        } catch (RuntimeException e) {
            wrong(name, "例外が発生しました (exception): " + e);
            return;
        }
        if (got == null) pending(name);
        else if (!Arrays.equals(got, expected)) wrong(name, "got " + abbreviate(got) + ", expected " + abbreviate(expected));
        else right(name);
    }

    public static void that(String name, Supplier<Boolean> condition, String hint) {
        try {
            Boolean ok = condition.get();
            if (ok == null) pending(name);
            else if (ok) right(name);
            else wrong(name, hint);
        } catch (UnsupportedOperationException e) {
            pending(name);
        } catch (RuntimeException e) {
            wrong(name, "例外が発生しました (exception): " + e);
        }
    }

    /** float[] → double[] (DJL returns float arrays). */
    public static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static String abbreviate(int[] a) {
        if (a.length <= 12) return Arrays.toString(a);
        return Arrays.toString(Arrays.copyOf(a, 12)).replace("]", ", …] (" + a.length + ")");
    }

    private static boolean right(String name) {
        System.out.println("✅ 正解 (correct): " + name);
        return true;
    }

    private static boolean wrong(String name, String why) {
        System.out.println("❌ 不正解 (not yet): " + name + " — " + why);
        return false;
    }

    private static boolean pending(String name) {
        System.out.println("⏳ 未回答 (not answered yet): " + name);
        return false;
    }
}
