package org.lesson8.data;

import java.util.List;

/**
 * The canonical attributes of a captioned scene: what its image shows, whatever words its caption uses.
 *
 * <p>One object: colour, shape, size and position ({@code colour2}, {@code shape2} and {@code axis} are −1). Two
 * objects: the first and second object's colour and shape and the axis of their relation; the first object is the
 * <b>left</b> one of a horizontal relation and the <b>upper</b> one of a vertical one, so "a red circle to the left
 * of a blue square." and "a blue square to the right of a red circle." have equal attributes ({@code size} and
 * {@code position} are −1). Colours, shapes, sizes and positions index {@link CaptionedShapes#COLOURS} etc.
 *
 * <p>{@link #labels()} gives one class label per attribute in the order of {@link #NAMES} (−1 where the attribute
 * does not apply): the targets of the caption judge's heads.
 */
public record SceneAttributes(int objects, int colour1, int shape1, int colour2, int shape2, int axis, int size, int position) {
    public static final int HORIZONTAL = 0;
    public static final int VERTICAL = 1;
    public static final List<String> AXES = List.of("horizontal", "vertical");
    /** The attributes in label order. */
    public static final List<String> NAMES = List.of("objects", "colour1", "shape1", "colour2", "shape2", "axis", "size", "position");
    /** The number of classes of each attribute, in label order ("objects": 1 or 2). */
    public static final List<Integer> CLASSES = List.of(2, CaptionedShapes.COLOURS.size(), CaptionedShapes.SHAPES.size(),
            CaptionedShapes.COLOURS.size(), CaptionedShapes.SHAPES.size(), AXES.size(), CaptionedShapes.SIZES.size(),
            CaptionedShapes.POSITIONS.size());

    public SceneAttributes {
        if (objects != 1 && objects != 2) throw new IllegalArgumentException("a scene has 1 or 2 objects, not " + objects);
        int[] v = {objects - 1, colour1, shape1, colour2, shape2, axis, size, position};
        for (int k = 1; k < v.length; k++) {
            boolean applies = applies(k, objects);
            if (applies && (v[k] < 0 || v[k] >= CLASSES.get(k)) || !applies && v[k] != -1) {
                throw new IllegalArgumentException(NAMES.get(k) + " = " + v[k] + " in a scene of " + objects + " object(s): it must be "
                        + (applies ? "in 0.." + (CLASSES.get(k) - 1) : "-1 (it does not apply)"));
            }
        }
    }

    /**
     * Refuses a classifier whose heads do not have one class count per attribute, in the order of {@link #NAMES}.
     *
     * @param what the classifier, as the message should name it
     */
    public static void requireHeads(List<Integer> classes, String what) {
        if (!classes.equals(CLASSES)) {
            throw new IllegalArgumentException(what + " has heads of " + classes + " classes, but scene attributes " + NAMES
                    + " have " + CLASSES + ": build it with CaptionJudge.scenes()");
        }
    }

    /** One object. */
    public static SceneAttributes one(int colour, int shape, int size, int position) {
        return new SceneAttributes(1, colour, shape, -1, -1, -1, size, position);
    }

    /** Two objects along {@code axis}; the first is the left (horizontal) or upper (vertical) one. */
    public static SceneAttributes two(int colour1, int shape1, int axis, int colour2, int shape2) {
        return new SceneAttributes(2, colour1, shape1, colour2, shape2, axis, -1, -1);
    }

    /** Whether attribute {@code k} (an index into {@link #NAMES}) applies to a scene of {@code objects} objects. */
    public static boolean applies(int k, int objects) {
        return switch (NAMES.get(k)) {
            case "colour2", "shape2", "axis" -> objects == 2;
            case "size", "position" -> objects == 1;
            default -> true;
        };
    }

    /** One label per attribute in the order of {@link #NAMES}; −1 where it does not apply. */
    public int[] labels() {
        return new int[] {objects - 1, colour1, shape1, colour2, shape2, axis, size, position};
    }

    /** The attributes that labels say (the labels of attributes that do not apply to their object count are ignored). */
    public static SceneAttributes fromLabels(int[] labels) {
        if (labels.length != NAMES.size()) {
            throw new IllegalArgumentException(labels.length + " labels, but scene attributes have " + NAMES.size() + ": " + NAMES);
        }
        return labels[0] == 0 ? one(labels[1], labels[2], labels[6], labels[7]) : two(labels[1], labels[2], labels[5], labels[3], labels[4]);
    }

    /** "colour shape" of the first object. */
    public String object1() {
        return CaptionedShapes.COLOURS.get(colour1) + " " + CaptionedShapes.SHAPES.get(shape1);
    }

    /** "colour shape" of the second object; a one-object scene has none. */
    public String object2() {
        if (objects == 1) throw new IllegalStateException("a one-object scene has no second object");
        return CaptionedShapes.COLOURS.get(colour2) + " " + CaptionedShapes.SHAPES.get(shape2);
    }
}
