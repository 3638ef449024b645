package org.lesson8.viz;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.lang.reflect.Method;

/**
 * Shows things inline in the notebook through the JJava kernel's {@code display}/{@code updateDisplay}
 * (found reflectively, so the library also runs outside Jupyter, e.g. in unit tests and benchmarks,
 * where displaying does nothing but print a one-line note).
 *
 * <p>Charts become PNG images, Tablesaw tables become HTML tables.
 */
public final class Display {
    private static final String STATICS = "org.dflib.jjava.jupyter.kernel.BaseNotebookStatics";
    private static final String DATA = "org.dflib.jjava.jupyter.kernel.display.DisplayData";
    private static Method display;
    private static Method update;
    private static boolean looked;

    private Display() {}

    private static synchronized boolean kernel() {
        if (!looked) {
            looked = true;
            try {
                Class<?> c = Class.forName(STATICS, true, Thread.currentThread().getContextClassLoader());
                display = c.getMethod("display", Object.class);
                update = c.getMethod("updateDisplay", String.class, Object.class);
            } catch (ReflectiveOperationException | LinkageError e) {
                try {
                    Class<?> c = Class.forName(STATICS);
                    display = c.getMethod("display", Object.class);
                    update = c.getMethod("updateDisplay", String.class, Object.class);
                } catch (ReflectiveOperationException | LinkageError e2) {
                    display = null;
                }
            }
        }
        return display != null;
    }

    /** True inside a Jupyter kernel. */
    public static boolean inNotebook() {
        return kernel();
    }

    /** Converts charts and tables to something the kernel renders. */
    public static Object renderable(Object o) {
        if (o instanceof Chart<?, ?> chart) return BitmapEncoder.getBufferedImage(chart);
        if (o instanceof Table t) return html(Tables.toHtml(t));
        return o;
    }

    /** An HTML display object (or the HTML string outside a kernel). */
    public static Object html(String html) {
        try {
            Class<?> c = Class.forName(DATA, true, display != null ? display.getDeclaringClass().getClassLoader()
                    : Thread.currentThread().getContextClassLoader());
            Object d = c.getConstructor().newInstance();
            c.getMethod("putHTML", String.class).invoke(d, html);
            return d;
        } catch (ReflectiveOperationException | LinkageError e) {
            return html;
        }
    }

    /** Displays an object; returns its display id (for {@link #update}), or null outside a kernel. */
    public static String show(Object o) {
        if (!kernel()) {
            System.out.println("[display] " + describe(o));
            return null;
        }
        try {
            return (String) display.invoke(null, renderable(o));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("display failed: " + e.getCause(), e);
        }
    }

    /** Replaces a previous display in place. */
    public static void update(String id, Object o) {
        if (id == null || !kernel()) return;
        try {
            update.invoke(null, id, renderable(o));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("display update failed: " + e.getCause(), e);
        }
    }

    private static String describe(Object o) {
        if (o instanceof BufferedImage b) return "image " + b.getWidth() + "x" + b.getHeight();
        if (o instanceof Chart<?, ?> c) return "chart '" + c.getTitle() + "'";
        if (o instanceof Table t) return "table " + t.name() + " " + t.rowCount() + "x" + t.columnCount();
        return String.valueOf(o);
    }
}
