package org.lesson8.viz;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.UUID;

/**
 * Shows things inline in the notebook through the JJava kernel (found reflectively, so the library
 * also runs outside Jupyter — in unit tests and benchmarks displaying only prints a one-line note).
 *
 * <p>Images render as PNG, XChart charts are drawn to PNG, Tablesaw tables and {@link #html} as HTML.
 * {@link #handle} returns an id whose output {@link #update} replaces in place (live training curves).
 */
public final class Display {
    private static final String STATICS = "org.dflib.jjava.jupyter.kernel.BaseNotebookStatics";
    private static final String KERNEL = "org.dflib.jjava.jupyter.kernel.BaseKernel";
    private static final String DATA = "org.dflib.jjava.jupyter.kernel.display.DisplayData";
    private static Method render;
    private static Method notebookKernel;
    private static Class<?> dataClass;
    private static boolean looked;

    /** An HTML fragment to display. */
    public record Html(String html) {}

    private Display() {}

    private static synchronized boolean kernel() {
        if (!looked) {
            looked = true;
            for (ClassLoader cl : new ClassLoader[] {Thread.currentThread().getContextClassLoader(), Display.class.getClassLoader()}) {
                try {
                    Class<?> statics = Class.forName(STATICS, true, cl);
                    Class<?> k = Class.forName(KERNEL, true, cl);
                    dataClass = Class.forName(DATA, true, cl);
                    render = statics.getMethod("render", Object.class);
                    notebookKernel = k.getMethod("notebookKernel");
                    if (notebookKernel.invoke(null) == null) { render = null; continue; }
                    break;
                } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                    render = null;
                }
            }
        }
        return render != null;
    }

    /** True inside a Jupyter kernel. */
    public static boolean inNotebook() {
        return kernel();
    }

    public static Html html(String html) {
        return new Html(html);
    }

    private static Object toDisplayData(Object o) throws ReflectiveOperationException {
        if (o instanceof Chart<?, ?> chart) o = BitmapEncoder.getBufferedImage(chart);
        if (o instanceof Table t) o = new Html(Tables.toHtml(t));
        if (o instanceof Html h) {
            Object d = dataClass.getConstructor().newInstance();
            dataClass.getMethod("putText", String.class).invoke(d, h.html().replaceAll("<[^>]+>", " ").replaceAll("\\s+", " ").trim());
            dataClass.getMethod("putHTML", String.class).invoke(d, h.html());
            return d;
        }
        return render.invoke(null, o);
    }

    /** Displays an object. */
    public static void show(Object o) {
        handle(o);
    }

    /** Displays an object and returns an id for {@link #update} (null outside a kernel). */
    public static String handle(Object o) {
        if (!kernel()) {
            System.out.println("[display] " + describe(o));
            return null;
        }
        try {
            Object d = toDisplayData(o);
            String id = UUID.randomUUID().toString();
            dataClass.getMethod("setDisplayId", String.class).invoke(d, id);
            Object k = notebookKernel.invoke(null);
            k.getClass().getMethod("display", dataClass).invoke(k, d);
            return id;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("display failed: " + e.getCause(), e);
        }
    }

    /** Replaces a previous display in place. */
    public static void update(String id, Object o) {
        if (id == null || !kernel()) return;
        try {
            Object d = toDisplayData(o);
            Object k = notebookKernel.invoke(null);
            Object io = k.getClass().getMethod("getIO").invoke(k);
            Field f = io.getClass().getField("display");
            Object stream = f.get(io);
            stream.getClass().getMethod("updateDisplay", String.class, dataClass).invoke(stream, id, d);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("display update failed: " + e.getCause(), e);
        }
    }

    private static String describe(Object o) {
        if (o instanceof BufferedImage b) return "image " + b.getWidth() + "x" + b.getHeight();
        if (o instanceof Chart<?, ?> c) return "chart '" + c.getTitle() + "'";
        if (o instanceof Table t) return "table " + t.name() + " " + t.rowCount() + "x" + t.columnCount();
        if (o instanceof Html h) return "html " + h.html().length() + " chars";
        return String.valueOf(o);
    }
}
