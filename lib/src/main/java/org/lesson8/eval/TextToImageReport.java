package org.lesson8.eval;

import org.lesson8.data.SceneAttributes;
import org.lesson8.eval.PromptSet.Group;
import org.lesson8.viz.Fonts;
import org.lesson8.viz.Images;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@link TextToImageEval#evaluate} measured of one generator: a {@link Row} per prompt group and an overall row
 * ({@link #OVERALL}), and the images, for a grid per group. {@link #table()} and {@link #combine} give the same columns
 * ({@link #COLUMNS}) in every notebook; empty cells mean "does not apply" (per-attribute accuracy of Fashion rows, the
 * CLIP score without a CLIP, the overall Fréchet distance).
 */
public final class TextToImageReport {
    /** The group name of the row that pools all groups. */
    public static final String OVERALL = "overall";

    /** The table's columns: generator, group, sizes, caption accuracy, one accuracy per scene attribute, then the other measures. */
    public static final List<String> COLUMNS = columns();

    /**
     * One row: {@code captionAccuracy} and {@code attributeAccuracy} (by {@link SceneAttributes#NAMES}, NaN where no
     * image has the attribute) are shares of images; {@code clipScore} a mean cosine; {@code diversity} a ratio to real
     * images; {@code frechet} the squared Fréchet distance in the judge's feature space.
     */
    public record Row(String generator, String group, int prompts, int images, double captionAccuracy, Map<String, Double> attributeAccuracy,
                      double clipScore, double diversity, double frechet, double imagesPerSecond) {}

    /** A group's images: {@code perPrompt} consecutive CHW images per prompt, in the order of {@code prompts}. */
    public record Samples(List<String> prompts, int perPrompt, int channels, float[] pixels) {}

    private static final int SIZE = 28;

    private final String generator;
    private final List<Row> rows;
    private final Map<Group, Samples> samples;

    TextToImageReport(String generator, List<Row> rows, Map<Group, Samples> samples) {
        this.generator = generator;
        this.rows = List.copyOf(rows);
        this.samples = Map.copyOf(samples);
    }

    public String generator() {
        return generator;
    }

    /** The groups' rows in the order of {@link Group}, then the overall row. */
    public List<Row> rows() {
        return rows;
    }

    public Row row(Group g) {
        return row(g.label);
    }

    public Row overall() {
        return row(OVERALL);
    }

    /** The row of the group labelled {@code group} ({@link Group#label}), or the overall row for {@link #OVERALL}. */
    public Row row(String group) {
        return rows.stream().filter(r -> r.group().equals(group)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "the report of '" + generator + "' has no " + group + " row; its groups are " + rows.stream().map(Row::group).toList()));
    }

    /** This generator's rows as a table. */
    public Table table() {
        return combine(List.of(this)).setName("text-to-image evaluation: " + generator);
    }

    /**
     * Several generators side by side (the lecture's final comparison): rows grouped by prompt group in the order of
     * {@link Group} and then overall, the generators in the order given within each group.
     */
    public static Table combine(List<TextToImageReport> reports) {
        if (reports.isEmpty()) throw new IllegalArgumentException("nothing to combine: pass at least one report");
        Set<String> names = new HashSet<>();
        for (TextToImageReport r : reports) {
            if (!names.add(r.generator)) {
                throw new IllegalArgumentException("two reports are both called '" + r.generator + "': evaluate each generator under its own name");
            }
        }
        List<String> order = new ArrayList<>(Arrays.stream(Group.values()).map(g -> g.label).toList());
        order.add(OVERALL);
        List<Row> all = new ArrayList<>();
        for (String g : order) for (TextToImageReport r : reports) r.rows.stream().filter(x -> x.group().equals(g)).forEach(all::add);
        Table t = Table.create("text-to-image evaluation");
        t.addColumns(StringColumn.create(COLUMNS.get(0), all.stream().map(Row::generator)),
                StringColumn.create(COLUMNS.get(1), all.stream().map(Row::group)),
                IntColumn.create(COLUMNS.get(2), all.stream().mapToInt(Row::prompts).toArray()),
                IntColumn.create(COLUMNS.get(3), all.stream().mapToInt(Row::images).toArray()),
                DoubleColumn.create(COLUMNS.get(4), all.stream().mapToDouble(Row::captionAccuracy).toArray()));
        int c = 5;
        for (String a : SceneAttributes.NAMES) {
            t.addColumns(DoubleColumn.create(COLUMNS.get(c++), all.stream().mapToDouble(r -> r.attributeAccuracy().get(a)).toArray()));
        }
        t.addColumns(DoubleColumn.create(COLUMNS.get(c++), all.stream().mapToDouble(Row::clipScore).toArray()),
                DoubleColumn.create(COLUMNS.get(c++), all.stream().mapToDouble(Row::diversity).toArray()),
                DoubleColumn.create(COLUMNS.get(c++), all.stream().mapToDouble(Row::frechet).toArray()),
                DoubleColumn.create(COLUMNS.get(c), all.stream().mapToDouble(Row::imagesPerSecond).toArray()));
        return t;
    }

    private static List<String> columns() {
        List<String> out = new ArrayList<>(List.of("generator", "group", "prompts", "images", "caption accuracy"));
        for (String a : SceneAttributes.NAMES) out.add(a + " acc");
        out.addAll(List.of("CLIP score", "diversity", "Fréchet", "images/s"));
        return List.copyOf(out);
    }

    /** The images of a group: one row per prompt, its caption on the left, its samples to the right, zoomed 2×. */
    public BufferedImage grid(Group g) {
        Samples s = samples.get(g);
        if (s == null) {
            throw new IllegalArgumentException("the report of '" + generator + "' has no " + g.label + " images; its groups are "
                    + rows.stream().map(Row::group).filter(x -> !x.equals(OVERALL)).toList());
        }
        int zoom = 2, tile = SIZE * zoom, pad = 4, label = 210, title = 22;
        int rowsCount = s.prompts().size();
        BufferedImage out = new BufferedImage(label + s.perPrompt() * (tile + pad) + pad, title + rowsCount * (tile + pad) + pad,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = out.createGraphics();
        gr.setColor(Color.WHITE);
        gr.fillRect(0, 0, out.getWidth(), out.getHeight());
        gr.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        gr.setColor(Color.BLACK);
        gr.setFont(Fonts.font(Font.BOLD, 12));
        gr.drawString(generator + ": " + g.label, pad, 15);
        gr.setFont(Fonts.font(Font.PLAIN, 11));
        int px = s.channels() * SIZE * SIZE;
        for (int p = 0; p < rowsCount; p++) {
            int y = title + p * (tile + pad);
            drawWrapped(gr, s.prompts().get(p), pad, y, label - 2 * pad, tile);
            for (int j = 0; j < s.perPrompt(); j++) {
                int from = (p * s.perPrompt() + j) * px;
                BufferedImage img = Images.fromChw(Arrays.copyOfRange(s.pixels(), from, from + px), s.channels(), SIZE, SIZE, zoom);
                gr.drawImage(img, label + j * (tile + pad), y, null);
            }
        }
        gr.dispose();
        return out;
    }

    /** Text wrapped to {@code width}, at most as many lines as fit in {@code height}, centred vertically there. */
    private static void drawWrapped(Graphics2D g, String text, int x, int y, int width, int height) {
        int lineHeight = g.getFontMetrics().getHeight();
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String w : text.split(" ")) {
            if (line.length() > 0 && g.getFontMetrics().stringWidth(line + " " + w) > width) {
                lines.add(line.toString());
                line = new StringBuilder();
            }
            line.append(line.length() == 0 ? "" : " ").append(w);
        }
        lines.add(line.toString());
        int shown = Math.min(lines.size(), Math.max(1, height / lineHeight));
        int top = y + (height - shown * lineHeight) / 2 + g.getFontMetrics().getAscent();
        for (int i = 0; i < shown; i++) g.drawString(lines.get(i), x, top + i * lineHeight);
    }
}
