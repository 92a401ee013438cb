// qun:app/types@0.2.0 and blocks@0.2.0 hold types only.
export {};
