package org.lesson8.viz;

import java.awt.Font;
import java.awt.GraphicsEnvironment;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Picks a font that can draw Japanese labels (IPA Gothic from fonts-ipafont-gothic, Noto CJK), else the default. */
public final class Fonts {
    private static String family;

    private Fonts() {}

    private static synchronized String family() {
        if (family == null) {
            Set<String> have = Arrays.stream(GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames())
                    .collect(Collectors.toSet());
            family = Font.SANS_SERIF;
            for (String f : List.of("IPAexGothic", "IPAGothic", "IPAPGothic", "Noto Sans CJK JP", "Noto Sans JP", "TakaoGothic")) {
                if (have.contains(f)) {
                    family = f;
                    break;
                }
            }
        }
        return family;
    }

    public static Font font(int style, int size) {
        return new Font(family(), style, size);
    }
}
