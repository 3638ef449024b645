package org.lesson8.viz;

import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VizTest {
    @Test
    void lineChartsSpaceTheirTicks() {
        var c = Charts.line("t", "step", "loss");
        assertTrue(c.getStyler().getXAxisTickMarkSpacingHint() >= 100, "x ticks too dense for five-digit steps");
        assertNull(c.getStyler().getxAxisTickLabelsFormattingFunction(),
                "a formatting function makes XChart put one tick per data point");
    }

    @Test
    void tablesNeverPrintNull() {
        IntColumn ints = IntColumn.create("n");
        ints.append(1);
        ints.appendMissing();
        Table t = Table.create("t").addColumns(ints, StringColumn.create("s", List.of("a", "b")),
                DoubleColumn.create("x", new double[] {0.5, Double.NaN}));
        String html = Tables.toHtml(t);
        assertFalse(html.contains("null"), html);
        assertFalse(html.contains("NaN"), html);
    }

    @Test
    void jsonBecomesATableOfKeysAndValues() {
        Table t = Tables.fromJson("info", "{\"command\": \"./course train clip\", \"config\": {\"dim\": 64, \"name\": null},"
                + " \"palette\": [0.1, 0.5], \"log\": [[1, 2], [3, 4]]}");
        assertEquals(List.of("command", "config.dim", "config.name", "palette", "log"), t.stringColumn("項目").asList());
        assertEquals(List.of("./course train clip", "64", "", "[0.1000, 0.5000]", "(2 個の要素)"), t.stringColumn("値").asList());
        assertFalse(Tables.toHtml(t).contains("null"));
    }

    @Test
    void heatmapHasAColourScale() {
        double[][] m = {{0, 1}, {2, 3}};
        BufferedImage withBar = Images.heatmap(null, m, null, null, 10, false);
        // the cells end at x = 6 + 2 * 10; the scale bar lies to their right
        assertTrue(withBar.getWidth() > 6 + 2 * 10 + 40, "no room for the colour scale: width " + withBar.getWidth());
        // the bar is 60 px tall from y = 6; its outline covers the first row, so read just inside it
        int barX = 6 + 2 * 10 + 12 + 5;
        int top = withBar.getRGB(barX, 6 + 1) & 0xFFFFFF, bottom = withBar.getRGB(barX, 6 + 58) & 0xFFFFFF;
        assertNotEquals(0xFFFFFF, top, "the colour scale was not drawn");
        assertEquals(Images.colour(1.0 - 1.0 / 59).getRGB() & 0xFFFFFF, top, "the top of the scale must be the highest colour");
        assertEquals(Images.colour(1.0 / 59).getRGB() & 0xFFFFFF, bottom, "the bottom of the scale must be the lowest colour");
    }
}
