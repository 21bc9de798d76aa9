//! Instruction -> ordered chain of steps (Chinese and English), rule-based.
